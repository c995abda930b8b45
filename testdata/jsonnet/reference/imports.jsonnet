// import, importstr, importbin and a library found through lib/.
local util = import 'util.libsonnet';
{
  fromLib: util.double(21),
  text: importstr 'data/greeting.txt',
  bytes: importbin 'data/greeting.txt',
  parsed: std.parseJson(importstr 'data/config.json'),
  yaml: std.parseYaml(importstr 'data/config.yaml'),
}
