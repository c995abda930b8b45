// C++ jsonnet 0.22 has no sha1/sha256/sha512/sha3 ("only supported in go version"); jrsonnet and go-jsonnet do.
[std.sha1('abc'), std.sha256('abc'), std.sha512('abc'), std.sha3('abc')]
