//! Go's `fmt` for template values: `print`, `println`, `printf` and the
//! `%v` that `{{ . }}` uses, verb by verb as Go prints each Go type
//! (`map[a:1 b:2]` sorted, `[1 2]`, `<nil>`, floats as strconv's shortest
//! `%g`: `1e+06`, `100000`, `3`, see [`super::float`]), with flags, width,
//! precision, `*` and `[n]`,
//! and Go's error strings (`%!d(string=x)`, `%!v(MISSING)`, `%!(EXTRA ...)`).

use super::float::format_float;
pub use super::float::format_float_v;
use super::value::Value;

/// `%v` of one value, appended (what `{{ . }}` prints).
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        // the common case, without padding rules
        Value::String(s) => out.push_str(s),
        v => print_value(out, v, 'v', &Flags::default(), 0),
    }
}

/// `%v` of one value.
pub fn sprint_v(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_value(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: spaces between all operands, a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(&mut out, a);
    }
    out.push('\n');
    out
}

#[derive(Clone, Default, Debug)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut argi = 0usize;
    let mut reordered = false;
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut f = Flags::default();
        while i < chars.len() {
            match chars[i] {
                '#' => f.sharp = true,
                '0' => f.zero = !f.minus,
                '+' => f.plus = true,
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_arg = true;
        arg_index(&chars, &mut i, &mut argi, args.len(), &mut reordered, &mut good_arg);
        // Width.
        if chars.get(i) == Some(&'*') {
            i += 1;
            match args.get(argi) {
                Some(Value::Int(n, _)) if n.abs() <= MAX_WIDTH => {
                    argi += 1;
                    if *n < 0 {
                        f.minus = true;
                        f.zero = false;
                    }
                    f.wid = Some(n.unsigned_abs() as usize);
                }
                _ => {
                    argi += 1;
                    out.push_str("%!(BADWIDTH)");
                }
            }
        } else {
            f.wid = number(&chars, &mut i);
        }
        // Precision.
        if chars.get(i) == Some(&'.') {
            i += 1;
            arg_index(&chars, &mut i, &mut argi, args.len(), &mut reordered, &mut good_arg);
            if chars.get(i) == Some(&'*') {
                i += 1;
                match args.get(argi) {
                    Some(Value::Int(n, _)) if *n >= 0 && *n <= MAX_WIDTH => {
                        f.prec = Some(*n as usize);
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                f.prec = Some(number(&chars, &mut i).unwrap_or(0));
            }
        }
        arg_index(&chars, &mut i, &mut argi, args.len(), &mut reordered, &mut good_arg);
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_arg {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(argi) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        if verb == 'w' {
            f.sharp = false;
        }
        if verb == 'v' || verb == 'w' {
            // `%+v` asks for struct field names (Go's plusV), not signs.
            f.plus = false;
        }
        print_arg(&mut out, arg, if verb == 'w' { 'v' } else { verb }, &f);
    }
    if !reordered && argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argi..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            match a {
                Value::Missing | Value::Nil => out.push_str("<nil>"),
                a => {
                    out.push_str(&a.type_name());
                    out.push('=');
                    write_value(&mut out, a);
                }
            }
        }
        out.push(')');
    }
    out
}

/// Go's `tooLarge`: widths and precisions past a million are refused.
const MAX_WIDTH: i64 = 1_000_000;

/// Go's `parsenum`: a crazy long number consumes the rest of the format.
fn number(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut n = 0usize;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        if n as i64 > MAX_WIDTH {
            *i = chars.len();
            return None;
        }
        n = n * 10 + d as usize;
        *i += 1;
    }
    (*i > start).then_some(n)
}

/// `[n]` argument indexes.
fn arg_index(chars: &[char], i: &mut usize, argi: &mut usize, nargs: usize, reordered: &mut bool, good: &mut bool) {
    if chars.get(*i) != Some(&'[') {
        return;
    }
    *reordered = true;
    let start = *i + 1;
    let Some(close) = chars[start..].iter().position(|c| *c == ']') else {
        *good = false;
        *i = chars.len().min(start);
        return;
    };
    let text: String = chars[start..start + close].iter().collect();
    *i = start + close + 1;
    match text.parse::<usize>() {
        Ok(n) if n >= 1 && n <= nargs => *argi = n - 1,
        _ => *good = false,
    }
}

/// One top-level argument (nil prints `<nil>` only for `%v` and `%T`).
fn print_arg(out: &mut String, v: &Value, verb: char, f: &Flags) {
    if verb == 'T' {
        pad(out, &v.type_name(), f, false);
        return;
    }
    if v.is_nil() {
        if verb == 'v' {
            pad(out, "<nil>", f, false);
        } else {
            bad_verb(out, verb, v);
        }
        return;
    }
    print_value(out, v, verb, f, 0);
}

fn bad_verb(out: &mut String, verb: char, v: &Value) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if v.is_nil() {
        out.push_str("<nil>");
    } else {
        out.push_str(&v.type_name());
        out.push('=');
        print_value(out, v, 'v', &Flags::default(), 0);
    }
    out.push(')');
}

fn print_value(out: &mut String, v: &Value, verb: char, f: &Flags, depth: usize) {
    if f.sharp && verb == 'v' {
        go_syntax(out, v, depth);
        return;
    }
    match v {
        Value::Missing | Value::Nil => pad(out, "<nil>", f, false),
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, f, false),
            _ => bad_verb(out, verb, v),
        },
        Value::Int(i, t) => fmt_int(out, *i, t.is_unsigned(), verb, f, v),
        Value::Float(x) => fmt_float(out, *x, verb, f, v),
        Value::String(s) => fmt_string(out, s, verb, f, v),
        Value::RawString(b) => fmt_string(out, &super::value::go_lossy(b), verb, f, v),
        Value::List(l) => {
            out.push('[');
            for (k, e) in l.items.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_value(out, e, verb, f, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (k, (key, val)) in m.entries.borrow().iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                fmt_string(out, key, verb, f, &Value::str(key));
                out.push(':');
                print_value(out, val, verb, f, depth + 1);
            }
            out.push(']');
        }
        Value::Object(o) => match (o.string(), verb) {
            (Some(s), 'v' | 's' | 'x' | 'X' | 'q') => fmt_string(out, &s, verb, f, v),
            _ => match o.underlying() {
                Some(u) => print_value(out, &u, verb, f, depth),
                None if verb == 'v' => pad(out, &o.fmt_v(), f, false),
                None => bad_verb(out, verb, v),
            },
        },
        Value::Func(_) => match verb {
            'v' | 'p' => pad(out, "0x0", f, false),
            _ => bad_verb(out, verb, v),
        },
    }
}

/// `%#v`: Go syntax.
fn go_syntax(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Missing | Value::Nil => out.push_str(if depth == 0 { "<nil>" } else { "interface {}(nil)" }),
        Value::String(s) => out.push_str(&quote(s)),
        Value::Float(x) => {
            let s = format_float(*x, 'g', None);
            out.push_str(&s);
            if !s.contains(['.', 'e', 'I', 'N']) {
                // Go's %#v keeps a float recognisable: 1 prints "1".
            }
        }
        Value::List(l) => {
            out.push_str(l.ty);
            out.push('{');
            for (k, e) in l.items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                go_syntax(out, e, depth + 1);
            }
            out.push('}');
        }
        Value::Map(m) => {
            out.push_str(m.ty);
            out.push('{');
            for (k, (key, val)) in m.entries.borrow().iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quote(key));
                out.push(':');
                go_syntax(out, val, depth + 1);
            }
            out.push('}');
        }
        v => print_value(out, v, 'v', &Flags::default(), depth),
    }
}

/// Pads to the width (runes), on the left unless `-`; zeros when `0` is
/// set and `zero_ok`.
fn pad(out: &mut String, s: &str, f: &Flags, zero_ok: bool) {
    let n = s.chars().count();
    let w = f.wid.unwrap_or(0);
    if w <= n {
        out.push_str(s);
        return;
    }
    let fill = w - n;
    if f.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        let c = if f.zero && zero_ok { '0' } else { ' ' };
        out.extend(std::iter::repeat_n(c, fill));
        out.push_str(s);
    }
}

fn fmt_string(out: &mut String, s: &str, verb: char, f: &Flags, v: &Value) {
    let s: std::borrow::Cow<'_, str> = match f.prec {
        Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect::<String>().into(),
        _ => s.into(),
    };
    match verb {
        'v' | 's' => pad(out, &s, f, true),
        'q' => {
            let q = if f.sharp && !s.contains(['`', '\n', '\r']) && s.chars().all(|c| c == '\t' || !c.is_control()) {
                format!("`{s}`")
            } else if f.plus {
                quote_ascii(&s)
            } else {
                quote(&s)
            };
            pad(out, &q, f, true)
        }
        'x' | 'X' => {
            let bytes = s.as_bytes();
            let bytes = match f.prec {
                Some(p) => &bytes[..p.min(bytes.len())],
                None => bytes,
            };
            let mut h = String::new();
            for (k, b) in bytes.iter().enumerate() {
                if f.space && k > 0 {
                    h.push(' ');
                }
                if f.sharp && (f.space || k == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, f, true)
        }
        _ => bad_verb(out, verb, v),
    }
}

fn fmt_int(out: &mut String, i: i64, unsigned: bool, verb: char, f: &Flags, v: &Value) {
    let (neg, mag): (bool, u128) = if unsigned { (false, i as u64 as u128) } else { (i < 0, i.unsigned_abs() as u128) };
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            return pad(out, &c.to_string(), f, true);
        }
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            return pad(out, &quote_rune(c), f, true);
        }
        'U' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            return pad(out, &unicode_u(c, f.sharp), f, false);
        }
        _ => return bad_verb(out, verb, v),
    };
    let mut digits = match base {
        10 => mag.to_string(),
        2 => format!("{mag:b}"),
        8 => format!("{mag:o}"),
        _ if upper => format!("{mag:X}"),
        _ => format!("{mag:x}"),
    };
    let mut prec = 0;
    if let Some(p) = f.prec {
        if p == 0 && mag == 0 {
            let mut g = f.clone();
            g.zero = false;
            return pad(out, "", &g, false);
        }
        prec = p;
    } else if f.zero && !f.minus && f.wid.is_some() {
        prec = f.wid.unwrap_or(0);
        if neg || f.plus || f.space {
            prec = prec.saturating_sub(1);
        }
    }
    if digits.len() < prec {
        digits = format!("{}{}", "0".repeat(prec - digits.len()), digits);
    }
    let prefix = match verb {
        'b' if f.sharp => "0b",
        'o' if f.sharp && !digits.starts_with('0') => "0",
        'O' => "0o",
        'x' if f.sharp => "0x",
        'X' if f.sharp => "0X",
        _ => "",
    };
    let sign = if neg {
        "-"
    } else if f.plus {
        "+"
    } else if f.space {
        " "
    } else {
        ""
    };
    let mut g = f.clone();
    g.zero = false;
    pad(out, &format!("{sign}{prefix}{digits}"), &g, false);
}

fn fmt_float(out: &mut String, x: f64, verb: char, f: &Flags, v: &Value) {
    let (conv, prec) = match verb {
        'v' => ('g', f.prec),
        'g' | 'G' | 'x' | 'X' => (verb, f.prec),
        'e' | 'E' | 'f' => (verb, Some(f.prec.unwrap_or(6))),
        'F' => ('f', Some(f.prec.unwrap_or(6))),
        _ => return bad_verb(out, verb, v),
    };
    let num = format_float(x, conv, prec);
    let (mut sign, body) = match num.strip_prefix('-') {
        Some(b) => ('-', b.to_string()),
        None => ('+', num.trim_start_matches('+').to_string()),
    };
    if f.space && sign == '+' && !f.plus {
        sign = ' ';
    }
    let body = if f.sharp && !body.contains(['.']) && !body.starts_with(['I', 'N']) {
        match body.find(['e', 'E']) {
            Some(e) => format!("{}.{}", &body[..e], &body[e..]),
            None => format!("{body}."),
        }
    } else {
        body
    };
    if body.starts_with(['I', 'N']) {
        let mut g = f.clone();
        g.zero = false;
        let s = if body.starts_with('N') && !f.space && !f.plus { body } else { format!("{sign}{body}") };
        return pad(out, &s, &g, false);
    }
    if f.plus || sign != '+' {
        let len = body.chars().count() + 1;
        if f.zero && !f.minus && f.wid.is_some_and(|w| w > len) {
            out.push(sign);
            out.extend(std::iter::repeat_n('0', f.wid.unwrap_or(0) - len));
            out.push_str(&body);
            return;
        }
        return pad(out, &format!("{sign}{body}"), f, true);
    }
    pad(out, &body, f, true)
}

/// Go's `unicode.IsPrint`, approximated with Rust's categories.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
        || ('\u{e000}'..='\u{f8ff}').contains(&c))
}

fn escape_char(out: &mut String, c: char, quote: char, ascii: bool) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if is_print(c) && (!ascii || c.is_ascii()) => out.push(c),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_char(&mut out, c, '"', false);
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` of bytes that need not be UTF-8: a byte that
/// starts no valid sequence is written `\xNN`.
pub fn quote_bytes(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    while !b.is_empty() {
        let (good, bad) = match std::str::from_utf8(b) {
            Ok(s) => (s, 0),
            Err(e) => {
                let good = std::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or_default();
                (good, e.error_len().unwrap_or(b.len() - e.valid_up_to()))
            }
        };
        for c in good.chars() {
            escape_char(&mut out, c, '"', false);
        }
        for x in &b[good.len()..good.len() + bad] {
            out.push_str(&format!("\\x{x:02x}"));
        }
        b = &b[good.len() + bad..];
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        escape_char(&mut out, c, '"', true);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`.
pub fn quote_rune(c: char) -> String {
    let mut out = String::from('\'');
    escape_char(&mut out, c, '\'', false);
    out.push('\'');
    out
}

/// `%U` (`U+0041`) and `%#U` (`U+0041 'A'`).
pub fn unicode_u(c: char, with_char: bool) -> String {
    let mut s = format!("U+{:04X}", c as u32);
    if with_char && is_print(c) {
        s.push_str(&format!(" '{c}'"));
    }
    s
}
