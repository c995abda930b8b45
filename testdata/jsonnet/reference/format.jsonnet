// std.format and the % operator.
{
  basic: '%s is %d years' % ['Ann', 42],
  padded: ['%5s|' % 'ab', '%-5s|' % 'ab', '%05d' % 42, '%+d' % 5, '% d' % 5],
  floats: ['%.2f' % 3.14159, '%8.3f|' % 2.5, '%e' % 12345.678, '%.3e' % 0.000123, '%g' % 0.0001, '%g' % 123456789],
  ints: ['%x' % 255, '%X' % 255, '%o' % 8, '%#x' % 255, '%#o' % 8, '%d' % -7, '%i' % 3],
  named: '%(name)s has %(count)03d items' % { name: 'cart', count: 7 },
  percent: '100%% sure',
  star: '%*d|' % [5, 42],
  char: '%c%c' % [72, 'i'],
  mixed: std.format('%s-%s', ['a', [1, 2]]),
  single: 'value: %s' % 'v',
  nums: ['%s' % 1.5, '%s' % 10, '%d' % 2.9],
}
