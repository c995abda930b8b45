//! Sprig's arithmetic and conversions. Integer functions convert their
//! arguments with `cast.ToInt64` and return `int64`; the `...f` functions
//! compute in decimal (shopspring/decimal) from each float's shortest
//! form, so `addf 0.1 0.2` is `0.3`, and return `float64`.

use super::{R, add, err, int_arg, strval, to_float64, to_int64};
use crate::gotmpl::value::{Arity, Func, IntType, Value};

fn i64v(i: i64) -> Value {
    Value::Int(i, IntType::Int64)
}

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "add", Arity::AtLeast(0), |a| Ok(i64v(a.iter().map(to_int64).fold(0, i64::wrapping_add))));
    add(v, "add1", Arity::Exact(1), |a| Ok(i64v(to_int64(&a[0]).wrapping_add(1))));
    add(v, "sub", Arity::Exact(2), |a| Ok(i64v(to_int64(&a[0]).wrapping_sub(to_int64(&a[1])))));
    add(v, "mul", Arity::AtLeast(1), |a| Ok(i64v(a.iter().map(to_int64).fold(1, i64::wrapping_mul))));
    add(v, "div", Arity::Exact(2), |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(i64v(to_int64(&a[0]).wrapping_div(d)))
    });
    add(v, "mod", Arity::Exact(2), |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err(err("runtime error: integer divide by zero"));
        }
        Ok(i64v(to_int64(&a[0]).wrapping_rem(d)))
    });
    for name in ["max", "biggest"] {
        add(v, name, Arity::AtLeast(1), |a| Ok(i64v(a.iter().map(to_int64).max().unwrap_or(0))));
    }
    add(v, "min", Arity::AtLeast(1), |a| Ok(i64v(a.iter().map(to_int64).min().unwrap_or(0))));
    add(v, "maxf", Arity::AtLeast(1), |a| Ok(Value::Float(a.iter().map(to_float64).fold(f64::NEG_INFINITY, go_max))));
    add(v, "minf", Arity::AtLeast(1), |a| Ok(Value::Float(a.iter().map(to_float64).fold(f64::INFINITY, go_min))));
    add(v, "floor", Arity::Exact(1), |a| Ok(Value::Float(to_float64(&a[0]).floor())));
    add(v, "ceil", Arity::Exact(1), |a| Ok(Value::Float(to_float64(&a[0]).ceil())));
    add(v, "round", Arity::AtLeast(2), round);
    add(v, "addf", Arity::AtLeast(0), |a| decimal_op(Value::Float(0.0), a, Op::Add));
    add(v, "add1f", Arity::Exact(1), |a| decimal_op(a[0].clone(), &[Value::int(1)], Op::Add));
    add(v, "subf", Arity::AtLeast(1), |a| decimal_op(a[0].clone(), &a[1..], Op::Sub));
    add(v, "mulf", Arity::AtLeast(1), |a| decimal_op(a[0].clone(), &a[1..], Op::Mul));
    add(v, "divf", Arity::AtLeast(1), |a| {
        if a[1..].iter().any(|x| to_float64(x) == 0.0) {
            return Err(err("decimal division by 0"));
        }
        decimal_op(a[0].clone(), &a[1..], Op::Div)
    });
    add(v, "int", Arity::Exact(1), |a| Ok(Value::int(to_int64(&a[0]))));
    add(v, "int64", Arity::Exact(1), |a| Ok(i64v(to_int64(&a[0]))));
    add(v, "float64", Arity::Exact(1), |a| Ok(Value::Float(to_float64(&a[0]))));
    add(v, "toDecimal", Arity::Exact(1), |a| Ok(i64v(parse_octal(&strval(&a[0])))));
}

/// Go's `math.Max` (NaN wins).
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() { f64::NAN } else { x.max(y) }
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() { f64::NAN } else { x.min(y) }
}

/// `strconv.ParseInt(s, 8, 64)`, 0 on error.
fn parse_octal(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return 0;
    }
    i64::from_str_radix(s, 8).unwrap_or(0)
}

/// `round VALUE PLACES [HALF]`: up from the fraction `HALF` (0.5).
fn round(a: &[Value]) -> R {
    let places = int_arg(a, 1)? as f64;
    let on = match a.get(2) {
        None => 0.5,
        Some(Value::Float(f)) => *f,
        // an integer constant converts to the float64 parameter
        Some(Value::Int(i, IntType::Int)) => *i as f64,
        Some(x) => return Err(super::type_error(x, "float64")),
    };
    let pow = 10f64.powf(places);
    let digit = pow * to_float64(&a[0]);
    let r = if digit.fract() >= on { digit.ceil() } else { digit.floor() };
    Ok(Value::Float(r / pow))
}

/// A decimal `m * 10^e`.
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    e: i32,
}

impl Dec {
    /// From a float's shortest decimal form (`decimal.NewFromFloat`).
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let frac = mant.split_once('.').map_or(0, |(_, f)| f.len() as i32);
        let m: i128 = mant.replace('.', "").parse().ok()?;
        Some(Dec { m, e: exp - frac })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    fn scale(self, e: i32) -> Option<i128> {
        // self.e >= e
        10i128.checked_pow(u32::try_from(self.e - e).ok()?)?.checked_mul(self.m)
    }

    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.e.min(b.e);
        Some((a.scale(e)?, b.scale(e)?, e))
    }

    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_add(y)?, e })
    }

    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, e) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_sub(y)?, e })
    }

    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec { m: a.m.checked_mul(b.m)?, e: a.e.checked_add(b.e)? })
    }

    /// `DivRound(b, 16)`: half away from zero at 16 decimal places.
    fn div(a: Dec, b: Dec) -> Option<Dec> {
        // a/b = (a.m / b.m) * 10^(a.e - b.e); want q * 10^-16
        let shift = a.e - b.e + 16;
        let (num, den) = if shift >= 0 {
            (a.m.checked_mul(10i128.checked_pow(shift as u32)?)?, b.m)
        } else {
            (a.m, b.m.checked_mul(10i128.checked_pow((-shift) as u32)?)?)
        };
        let (q, r) = (num / den, num % den);
        let q = if r.abs().checked_mul(2)? >= den.abs() { q + num.signum() * den.signum() } else { q };
        Some(Dec { m: q, e: -16 })
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn dec(self, a: Dec, b: Dec) -> Option<Dec> {
        match self {
            Op::Add => Dec::add(a, b),
            Op::Sub => Dec::sub(a, b),
            Op::Mul => Dec::mul(a, b),
            Op::Div => Dec::div(a, b),
        }
    }

    fn float(self, x: f64, y: f64) -> f64 {
        match self {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
        }
    }
}

/// Folds `op` over `first` and `rest` in decimal; falls back to floats
/// when a value does not fit.
fn decimal_op(first: Value, rest: &[Value], op: Op) -> R {
    let mut acc = to_float64(&first);
    let mut dec = Dec::from_f64(acc);
    for x in rest {
        let y = to_float64(x);
        dec = dec.zip(Dec::from_f64(y)).and_then(|(a, b)| op.dec(a, b));
        acc = match dec {
            Some(d) => d.to_f64(),
            None => op.float(acc, y),
        };
        dec = dec.or_else(|| Dec::from_f64(acc));
    }
    Ok(Value::Float(acc))
}
