// == on numbers is exact, as in the reference (jrsonnet compared with an epsilon: 0.1 + 0.2 == 0.3).
[0.1 + 0.2 == 0.3]
