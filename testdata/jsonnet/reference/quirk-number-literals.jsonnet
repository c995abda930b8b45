// C++ jsonnet reads 1.5e-7 as 1.5000000000000002e-07 (not correctly rounded); jrsonnet reads it exactly.
[1.5e-7]
