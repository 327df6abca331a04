"""Reading bureau exports into the graph, and the synthetic city generator."""
