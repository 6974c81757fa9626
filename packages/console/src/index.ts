// @baton/console — The Baton web console: runs, waterfalls, approvals and metrics in a browser (baton view).
export {};
