//! clap's `ValueEnum` for the library's enums that flags choose from: the
//! library stays free of clap, and the command line keeps its possible
//! values and their help.

use crate::cluster::write::Cascade;
use crate::output::OutputFormat;
use crate::source::app::AppsFormat;
use crate::sync::parent::ParentKind;

/// `impl clap::ValueEnum` for `$ty`: each variant's name on the command
/// line and its help.
macro_rules! value_enum {
    ($ty:ty { $($variant:ident => $name:literal : $help:literal),* $(,)? }) => {
        impl clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$(Self::$variant),*]
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(match self {
                    $(Self::$variant => clap::builder::PossibleValue::new($name).help($help)),*
                })
            }
        }
    };
}

value_enum!(OutputFormat {
    Yaml => "yaml": "A YAML stream, documents separated by `---`",
    Json => "json": "A `v1` `List`, as `kubectl get -o json` prints",
    Name => "name": "`kind.group/name` lines, as `kubectl get -o name` prints",
});

value_enum!(AppsFormat {
    Table => "table": "Columns NAME, PROJECT, REPO, REVISION, PATH, DESTINATION, NAMESPACE, TOOL",
    Wide => "wide": "The table plus SYNC, CONTEXT, COMMIT and FILE",
    Json => "json": "A JSON array of the parsed Applications (plus `tool` and `commit`)",
    Yaml => "yaml": "The same as YAML",
});

value_enum!(ParentKind {
    Secret => "secret": "A Secret (kubectl's default parent kind)",
    ConfigMap => "configmap": "A ConfigMap",
});

value_enum!(Cascade {
    Background => "background": "Delete dependents in the background (kubectl's default)",
    Foreground => "foreground": "Delete dependents first; the object goes once they are gone",
    Orphan => "orphan": "Leave dependents in place",
});
