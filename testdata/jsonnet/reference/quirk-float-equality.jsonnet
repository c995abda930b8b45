// jrsonnet compares numbers with an epsilon: 0.1 + 0.2 == 0.3 is true.
[0.1 + 0.2 == 0.3]
