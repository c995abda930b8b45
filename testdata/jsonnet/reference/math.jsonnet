// Numbers and math functions.
{
  arithmetic: [1 + 2, 7 - 10, 6 * 7, 7 / 2, 1 / 3, 2 / 3, 7 % 3, -7 % 3, 7.5 % 2],
  precedence: [1 + 2 * 3, (1 + 2) * 3, 10 - 2 - 3, 2 * 3 % 4],
  bitwise: [5 & 3, 5 | 3, 5 ^ 3, ~5, 1 << 10, 1024 >> 3],
  comparisons: [1 < 2, 2 <= 2, 3 > 4, 1 == 1.0, 0.5 + 0.25 == 0.75],
  functions: {
    abs: [std.abs(-3), std.abs(2.5)],
    sign: [std.sign(-2), std.sign(0), std.sign(5)],
    minmax: [std.max(1, 2), std.min(1, 2), std.clamp(15, 0, 10), std.clamp(-1, 0, 10)],
    pow: [std.pow(2, 10), std.pow(2, 0.5), std.pow(10, -2)],
    rounding: [std.floor(2.7), std.ceil(2.1), std.floor(-2.5), std.ceil(-2.5), std.round(2.5), std.round(-1.4)],
    roots: [std.sqrt(16), std.sqrt(2)],
    trig: [std.sin(0), std.cos(0), std.tan(0), std.asin(1), std.acos(1), std.atan(1)],
    explog: [std.exp(1), std.log(std.exp(2)), std.exp(0)],
    parts: [std.mantissa(8), std.exponent(8), std.mantissa(0.5), std.exponent(0.5), std.mantissa(0)],
    modulo: [std.modulo(7, 3), std.mod(10, 4), std.mod('%s!', 'x')],
    parity: [std.isEven(4), std.isOdd(4), std.isInteger(2), std.isInteger(2.5), std.isDecimal(2.5)],
  },
  big: [1e15, 123456789012, 2e20, 0.015, -0.0, 1e-300],
  decimals: [0.1, 0.5, 1.25, 3.3333333333333335, 100.0, 1 / 7],
  numberStrings: [std.toString(0.5), std.toString(1e21), std.toString(0.25), std.toString(-1024), std.toString(1e15)],
}
