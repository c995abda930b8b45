// manifestYamlStream(c_document_end=false): jrsonnet adds a blank line.
std.manifestYamlStream([{ a: 1 }], c_document_end=false)
