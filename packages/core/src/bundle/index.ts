export { BUNDLE_PREFIX, type Bundle, bundleOf, guardrailsShape, makeBundle, shortBundle } from './bundle.js';
export { type BundleChange, bundleJsonSchema, diffBundles } from './diff.js';
