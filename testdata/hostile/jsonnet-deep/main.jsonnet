// A 152-byte program: an object 50,000 levels deep (lazy fields, so the
// evaluator never recurses deeply; only turning it into JSON would).
local f(n) = if n == 0 then {} else { a: f(n - 1) };
{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: f(50000) }
