//! Go's `strconv.FormatFloat` for float64 (`'e'`, `'f'`, `'g'`, shortest
//! or with a precision), which `%v`, `%e`, `%f`, `%g` and `{{ 1.5 }}` use:
//! shortest `%g` switches to an exponent from 1e+06 on (`1e+06`,
//! `100000`, `1.234567e+06`) and below 1e-4. Digits come from Rust's
//! correctly rounded formatting, the layout follows strconv.

/// Decimal digits (no trailing zeros) and the decimal point position:
/// `x = 0.d1d2... * 10^dp`. `sig` rounds to that many significant digits.
fn digits(x: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let s = match sig {
        Some(n) => format!("{:.*e}", n.max(1) - 1, x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return (Vec::new(), 0);
    }
    (d, exp + 1)
}

/// strconv.FormatFloat(x, conv, prec, 64) for 'e', 'E', 'f', 'g', 'G'
/// (`None`: shortest).
pub fn format_float(x: f64, conv: char, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let neg = x.is_sign_negative();
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    match conv {
        'x' | 'X' => {
            s.push_str(&hex_float(x, conv, prec));
            s
        }
        'f' => {
            match prec {
                Some(p) => s.push_str(&format!("{:.*}", p, x.abs())),
                None => {
                    let (d, dp) = digits(x, None);
                    s.push_str(&fmt_f(&d, dp, d.len().saturating_sub(dp.max(0) as usize)));
                }
            }
            s
        }
        'e' | 'E' => {
            let (d, dp) = match prec {
                Some(p) => digits(x, Some(p + 1)),
                None => digits(x, None),
            };
            let p = prec.unwrap_or(d.len().saturating_sub(1));
            s.push_str(&fmt_e(&d, dp, p, conv));
            s
        }
        _ => {
            let shortest = prec.is_none();
            let mut p = prec.unwrap_or(0);
            if !shortest && p == 0 {
                p = 1;
            }
            let (d, dp) = if shortest { digits(x, None) } else { digits(x, Some(p)) };
            let nd = d.len();
            if shortest {
                p = nd;
            }
            let mut eprec = p;
            if eprec > nd && nd as i32 >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            let e = if conv == 'G' { 'E' } else { 'e' };
            if nd != 0 && (exp < -4 || exp >= eprec as i32) {
                if p > nd {
                    p = nd;
                }
                s.push_str(&fmt_e(&d, dp, p.saturating_sub(1), e));
            } else {
                if p as i32 > dp {
                    p = nd;
                }
                s.push_str(&fmt_f(&d, dp, (p as i32 - dp).max(0) as usize));
            }
            s
        }
    }
}

fn fmt_e(d: &[u8], dp: i32, prec: usize, e: char) -> String {
    let mut s = String::new();
    s.push(d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(d.get(i).map_or('0', |c| *c as char));
        }
    }
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    s.push(e);
    s.push(if exp < 0 { '-' } else { '+' });
    let a = exp.unsigned_abs();
    if a < 10 {
        s.push('0');
    }
    s.push_str(&a.to_string());
    s
}

fn fmt_f(d: &[u8], dp: i32, prec: usize) -> String {
    let mut s = String::new();
    if dp > 0 {
        for i in 0..dp as usize {
            s.push(d.get(i).map_or('0', |c| *c as char));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec as i32 {
            let j = dp + i;
            s.push(if j < 0 { '0' } else { d.get(j as usize).map_or('0', |c| *c as char) });
        }
    }
    s
}

/// `%v` of a float64 (strconv 'g', shortest).
pub fn format_float_v(x: f64) -> String {
    format_float(x, 'g', None)
}

/// strconv's `%x` of a float64: `0x1.8p+00`, rounded to `prec` hex digits
/// after the point when given (ties to even).
fn hex_float(x: f64, conv: char, prec: Option<usize>) -> String {
    let bits = x.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1023;
    if mant == 0 {
        exp = 0;
    }
    // The leading 1 (if any) at bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1u64 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if let Some(p) = prec.filter(|p| *p < 15) {
        let shift = (p * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1u64 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1u64 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let digits: &[u8; 16] = if conv == 'X' { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut s = String::from("0");
    s.push(conv);
    s.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4;
    match prec {
        None if mant != 0 => {
            s.push('.');
            while mant != 0 {
                s.push(digits[((mant >> 60) & 15) as usize] as char);
                mant <<= 4;
            }
        }
        Some(p) if p > 0 => {
            s.push('.');
            for _ in 0..p {
                s.push(digits[((mant >> 60) & 15) as usize] as char);
                mant <<= 4;
            }
        }
        _ => {}
    }
    s.push(if conv == 'X' { 'P' } else { 'p' });
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    s
}
