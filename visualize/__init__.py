"""visualize: Graphviz pictures of computation graphs, and plots."""
