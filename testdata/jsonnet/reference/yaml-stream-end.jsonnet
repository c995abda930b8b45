// manifestYamlStream(c_document_end=false) ends with one newline, as in the reference.
std.manifestYamlStream([{ a: 1 }], c_document_end=false)
