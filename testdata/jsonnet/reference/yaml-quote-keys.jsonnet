// manifestYamlDoc(quote_keys=false) still quotes keys that need it ("b c"), as the reference does.
std.manifestYamlDoc({ 'b c': 1 }, quote_keys=false)
