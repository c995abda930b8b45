// std.length of a function is its number of parameters in C++ jsonnet; jrsonnet 0.5.0-pre97 returns 1.
local f(a, b=2, c=3) = a;
std.length(f)
