// String functions of the standard library.
local s = 'Hello, World';
{
  length: std.length(s),
  substr: [std.substr(s, 0, 5), std.substr(s, 7, 100)],
  split: std.split('a,b,,c', ','),
  splitLimit: std.splitLimit('a,b,c,d', ',', 2),
  splitLimitR: std.splitLimitR('a,b,c,d', ',', 2),
  strReplace: std.strReplace('banana', 'an', 'AN'),
  upper: std.asciiUpper(s),
  lower: std.asciiLower(s),
  startsWith: [std.startsWith(s, 'Hell'), std.startsWith(s, 'World')],
  endsWith: [std.endsWith(s, 'World'), std.endsWith(s, 'Hell')],
  chars: std.stringChars('abc'),
  findSubstr: std.findSubstr('an', 'banana'),
  join: [std.join('-', ['a', 'b', 'c']), std.join(', ', [])],
  strip: [std.lstripChars('  xx  ', ' '), std.rstripChars('  xx  ', ' '), std.stripChars('--x--', '-')],
  escapes: {
    json: std.escapeStringJson('say "hi"\n\ttab \u0001 é'),
    bash: std.escapeStringBash("it's"),
    dollars: std.escapeStringDollars('$HOME and $$'),
    python: std.escapeStringPython('a"b\n'),
    xml: std.escapeStringXML('<a href="x">&\'</a>'),
  },
  parse: [std.parseInt('-42'), std.parseInt('0123'), std.parseHex('ff'), std.parseOctal('755')],
  chr: [std.char(65), std.char(233), std.codepoint('é'), std.codepoint('A')],
  base64: [std.base64('kubectl gitops'), std.base64Decode('a3ViZWN0bA=='), std.base64([0, 255, 16])],
  base64Bytes: std.base64DecodeBytes('AP8Q'),
  md5: std.md5('abc'),
  utf8: [std.encodeUTF8('é€'), std.decodeUTF8([104, 105, 195, 169])],
  isEmpty: [std.isEmpty(''), std.isEmpty('x')],
  equalsIgnoreCase: std.equalsIgnoreCase('AbC', 'aBc'),
  concat: ['a' + 1, 'b' + 1.5, 'c' + true, 'd' + null, 'e' + [1], 'f' + { x: 1 }],
  compare: ['a' < 'b', 'abc' < 'abd', 'B' < 'a', 'é' > 'z'],
  index: s[7],
  slice: [s[0:5], s[::2], s[7:], 'abcdef'[1:5:2]],
  unicode: std.length('héllo€'),
  verbatim: @'C:\path\n',
  block: |||
    line one
      indented
    last
  |||,
  lines: std.lines(['a', 'b']),
  toString: [std.toString(1), std.toString('s'), std.toString([1, 'a']), std.toString({ a: 1 })],
  stringFromNumbers: [std.toString(1.5), std.toString(100), std.toString(-0.25), std.toString(1e3)],
}
