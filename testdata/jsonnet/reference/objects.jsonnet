// Objects: fields, inheritance, visibility, std object functions.
local base = {
  name: 'base',
  hidden:: 'h',
  forced::: 'f',
  nested: { a: 1, b: { c: 2 } },
  greet(who):: 'hi ' + who + ' from ' + self.name,
};
local child = base {
  name: 'child',
  nested+: { b+: { d: 3 } },
  extra: super.name + '!',
  forced: 'unforced?',
};
{
  child: child,
  greet: child.greet('you'),
  fields: std.objectFields(child),
  fieldsAll: std.objectFieldsAll(child),
  values: std.objectValues({ b: 2, a: 1 }),
  valuesAll: std.objectValuesAll({ a: 1, h:: 2 }),
  keysValues: std.objectKeysValues({ b: 2, a: 1 }),
  has: [std.objectHas(child, 'hidden'), std.objectHasAll(child, 'hidden'), std.objectHas(child, 'name')],
  mapWithKey: std.mapWithKey(function(k, v) k + '=' + v, { x: '1', y: '2' }),
  mergePatch: std.mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: null, b: { c: 5 }, e: [2], f: 'new' }),
  get: [std.get({ a: 1 }, 'a'), std.get({ a: 1 }, 'b', 'default'), std.get({ h:: 1 }, 'h', 0, false)],
  removeKey: std.objectRemoveKey({ a: 1, b: 2 }, 'a'),
  comprehension: { [k + '_x']: k for k in ['p', 'q'] },
  conditional: { [if true then 'yes']: 1, [if false then 'no']: 2 },
  self_ref: { a: 1, b: self.a + 1, c: { d: $.self_ref.b * 10 } },
  locals: local o = { local l = 5, v: l * 2 }; o,
  equality: [{ a: 1, b:: 2 } == { a: 1 }, { a: [1] } == { a: [1] }],
  length: std.length(child),
  plusMerge: { a: { b: 1 } } + { a+: { c: 2 } },
  override: { a: { b: 1 } } + { a: { c: 2 } },
  inObject: ['name' in child, 'hidden' in child, 'zzz' in child],
  assertion: { assert self.n > 0 : 'n must be positive', n: 1 },
  numericKeys: { '1': 'one', '10': 'ten', '2': 'two', b: 0, a: 0, B: 0 },
}
