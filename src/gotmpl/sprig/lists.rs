//! Sprig's list functions. They accept any slice (`[]interface {}`,
//! `[]string`, named slice types) and, except `slice`, return a new
//! `[]interface {}`; `until`/`untilStep` return `[]int`.

use std::rc::Rc;

use super::{R, add, deep_equal, err, int_arg, is_empty, slice_items, to_int64};
use crate::gotmpl::Error;
use crate::gotmpl::value::{Arity, Func, List, Value};

/// The longest list `until`, `untilStep` and `seq` build (Go would try to
/// allocate whatever it is asked for).
const MAX_ITEMS: i64 = 10_000_000;

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "list", Arity::AtLeast(0), |a| Ok(Value::list(a.to_vec())));
    for name in ["push", "append"] {
        add(v, name, Arity::Exact(2), |a| {
            let mut l = items(&a[0], "Cannot push on type")?.to_vec();
            l.push(a[1].clone());
            Ok(Value::list(l))
        });
    }
    add(v, "prepend", Arity::Exact(2), |a| {
        let mut l = vec![a[1].clone()];
        l.extend(items(&a[0], "Cannot prepend on type")?.iter().cloned());
        Ok(Value::list(l))
    });
    add(v, "first", Arity::Exact(1), |a| {
        Ok(items(&a[0], "Cannot find first on type")?.first().cloned().unwrap_or(Value::Nil))
    });
    add(v, "last", Arity::Exact(1), |a| {
        Ok(items(&a[0], "Cannot find last on type")?.last().cloned().unwrap_or(Value::Nil))
    });
    add(v, "rest", Arity::Exact(1), |a| {
        let l = items(&a[0], "Cannot find rest on type")?;
        Ok(if l.is_empty() { Value::Nil } else { Value::list(l[1..].to_vec()) })
    });
    add(v, "initial", Arity::Exact(1), |a| {
        let l = items(&a[0], "Cannot find initial on type")?;
        Ok(if l.is_empty() { Value::Nil } else { Value::list(l[..l.len() - 1].to_vec()) })
    });
    add(v, "reverse", Arity::Exact(1), |a| {
        Ok(Value::list(items(&a[0], "Cannot find reverse on type")?.iter().rev().cloned().collect()))
    });
    add(v, "compact", Arity::Exact(1), |a| {
        Ok(Value::list(items(&a[0], "Cannot compact on type")?.iter().filter(|x| !is_empty(x)).cloned().collect()))
    });
    add(v, "uniq", Arity::Exact(1), |a| {
        let mut out: Vec<Value> = Vec::new();
        for x in items(&a[0], "Cannot find uniq on type")?.iter() {
            if !out.iter().any(|y| deep_equal(x, y)) {
                out.push(x.clone());
            }
        }
        Ok(Value::list(out))
    });
    add(v, "without", Arity::AtLeast(1), |a| {
        let l = items(&a[0], "Cannot find without on type")?;
        Ok(Value::list(l.iter().filter(|x| !a[1..].iter().any(|o| deep_equal(x, o))).cloned().collect()))
    });
    add(v, "has", Arity::Exact(2), |a| {
        if a[1].is_nil() {
            return Ok(Value::Bool(false));
        }
        let l = items(&a[1], "Cannot find has on type")?;
        Ok(Value::Bool(l.iter().any(|x| deep_equal(&a[0], x))))
    });
    add(v, "concat", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for l in a {
            match slice_items(l) {
                Some(x) => out.extend(x.iter().cloned()),
                None => return Err(err(format!("Cannot concat type {} as list", kind(l)))),
            }
        }
        Ok(Value::list(out))
    });
    add(v, "slice", Arity::AtLeast(1), slice);
    add(v, "until", Arity::Exact(1), |a| {
        let n = int_arg(a, 0)?;
        until_step(0, n, if n < 0 { -1 } else { 1 }).map(int_list)
    });
    add(v, "untilStep", Arity::Exact(3), |a| until_step(int_arg(a, 0)?, int_arg(a, 1)?, int_arg(a, 2)?).map(int_list));
    add(v, "seq", Arity::AtLeast(0), seq);
    add(v, "chunk", Arity::Exact(2), |a| {
        let size = int_arg(a, 0)?;
        let l = items(&a[1], "Cannot chunk type")?;
        if size <= 0 {
            return Err(err("runtime error: makeslice: len out of range"));
        }
        let chunks = l.chunks(size as usize).map(|c| Value::list(c.to_vec())).collect();
        Ok(Value::List(List { items: Rc::new(chunks), ty: "[][]interface {}" }))
    });
}

/// The reflect kind name Sprig prints in its errors.
fn kind(v: &Value) -> String {
    v.kind_name().to_string()
}

/// A slice's items, or Sprig's `<msg> <kind>` error.
fn items(v: &Value, msg: &str) -> Result<Rc<Vec<Value>>, Error> {
    if v.is_nil() {
        // reflect.TypeOf(nil).Kind() dereferences a nil Type
        return Err(err("runtime error: invalid memory address or nil pointer dereference"));
    }
    slice_items(v).ok_or_else(|| err(format!("{msg} {}", kind(v))))
}

/// Sprig's `slice`: `list[start:end]` keeping the list's type, nil for an
/// empty list.
fn slice(a: &[Value]) -> R {
    let list = a[0].underlying();
    let Value::List(l) = &list else {
        return Err(err(format!("list should be type of slice or array but {}", kind(&a[0]))));
    };
    let len = l.items.len() as i64;
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, to_int64);
    let end = if a.len() < 3 { len } else { to_int64(&a[2]) };
    if start < 0 || end < start || end > len {
        return Err(err("reflect.Value.Slice: slice index out of bounds"));
    }
    Ok(Value::List(List { items: Rc::new(l.items[start as usize..end as usize].to_vec()), ty: l.ty }))
}

fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, Error> {
    let mut out = Vec::new();
    if (stop < start && step >= 0) || (stop >= start && step <= 0) {
        return Ok(out);
    }
    let count = (i128::from(stop) - i128::from(start)).abs() / i128::from(step).abs();
    if count > i128::from(MAX_ITEMS) {
        return Err(err(format!("untilStep: more than {MAX_ITEMS} items")));
    }
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i);
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    Ok(out)
}

fn int_list(v: Vec<i64>) -> Value {
    Value::List(List { items: Rc::new(v.into_iter().map(Value::int).collect()), ty: "[]int" })
}

/// Sprig's `seq`, like GNU seq: `seq END`, `seq START END`, `seq START STEP END`.
fn seq(a: &[Value]) -> R {
    let p: Vec<i64> = (0..a.len()).map(|i| int_arg(a, i)).collect::<Result<_, _>>()?;
    let nums = match p[..] {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(1, end + inc, inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(start, end + step, step)?
        }
        [start, step, end] => {
            let inc = if end < start { -1 } else { 1 };
            if end < start && step > 0 {
                return Ok(Value::str(""));
            }
            until_step(start, end + inc, step)?
        }
        _ => Vec::new(),
    };
    Ok(Value::from(nums.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")))
}
