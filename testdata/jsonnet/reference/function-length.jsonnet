// std.length of a function is its number of parameters, defaults included, as in the reference.
local f(a, b=2, c=3) = a;
std.length(f)
