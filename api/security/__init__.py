"""Access rules, masking, police scope, the scoped store, audit: decided here, once, for every read."""
