// manifestToml: blank lines around tables that hold only subtables, and a
// document made only of tables, as the reference writes them.
[std.manifestToml({ nested: { inner: { k: 'v' } } }), std.manifestTomlEx({ a: { b: 1 } }, '  ')]
