// manifestYamlDoc(quote_keys=false): C++ still quotes keys that need it ("b c"), jrsonnet does not.
std.manifestYamlDoc({ 'b c': 1 }, quote_keys=false)
