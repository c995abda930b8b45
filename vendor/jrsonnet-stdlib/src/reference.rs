//! kubectl-gitops: the standard library functions of the reference Jsonnet
//! 0.22 that jrsonnet 0.5.0-pre97 lacks, computed as the reference's
//! `std.jsonnet` computes them (so results agree to the last bit).

use jrsonnet_evaluator::{function::builtin, IStr, Val};

#[builtin]
pub fn builtin_is_null(v: Val) -> bool {
	matches!(v, Val::Null)
}

/// `std.log(x) / std.log(2)`.
#[builtin]
pub fn builtin_log2(x: f64) -> f64 {
	x.ln() / 2f64.ln()
}

/// `std.log(x) / std.log(10)`.
#[builtin]
pub fn builtin_log10(x: f64) -> f64 {
	x.ln() / 10f64.ln()
}

/// `x * std.pi / 180`.
#[builtin]
pub fn builtin_deg2rad(x: f64) -> f64 {
	x * std::f64::consts::PI / 180.0
}

/// `x * 180 / std.pi`.
#[builtin]
pub fn builtin_rad2deg(x: f64) -> f64 {
	x * 180.0 / std::f64::consts::PI
}

/// C's `hypot` (no overflow for large operands).
#[builtin]
pub fn builtin_hypot(a: f64, b: f64) -> f64 {
	a.hypot(b)
}

/// `std.stripChars(str, ' \t\n\f\r\u0085\u00A0')`.
#[builtin]
pub fn builtin_trim(str: IStr) -> String {
	str.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\u{000c}' | '\r' | '\u{0085}' | '\u{00a0}'))
		.to_string()
}
