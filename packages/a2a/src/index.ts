// @baton/a2a — A2A for Baton: serve an agent or team as an A2A server, call a remote A2A agent as a team member.
export {};
