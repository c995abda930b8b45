// Types, equality, functions, control flow, external variables.
local f(a, b=2, c=a + b) = [a, b, c];
local fact(n) = if n <= 1 then 1 else n * fact(n - 1);
{
  types: [std.type(null), std.type(true), std.type(1), std.type('s'), std.type([]), std.type({}), std.type(f)],
  predicates: [std.isString('s'), std.isNumber(1), std.isBoolean(false), std.isObject({}), std.isArray([]), std.isFunction(f)],
  calls: [f(1), f(1, 3), f(1, c=9), f(b=5, a=0)],
  recursion: fact(10),
  ifElse: [if 1 < 2 then 'yes' else 'no', if false then 'never'],
  equals: [std.equals({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), std.primitiveEquals(1, 1), 'a' == 'a', null == null],
  logic: [true && false, true || false, !true, std.xor(true, false), std.xnor(true, true)],
  assertEqual: std.assertEqual([1, 2], [1, 2]),
  extStr: std.extVar('env'),
  extCode: std.extVar('cfg'),
  local_shadow: local x = 1; local y = x + 1; local x = 10; [x, y],
  lazy: { a: error 'never evaluated', b: 1 }.b,
  tailcall: local double(x) = x * 2; double(21) tailstrict,
  length: std.length({ a: 1, b:: 2 }),
  stringIndexing: std.map(function(i) 'héllo'[i], std.range(0, 4)),
}
