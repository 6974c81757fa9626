// @baton/eval — Evals for Baton agents and teams: golden sets, record/replay, paired A/B with statistics.
export {};
