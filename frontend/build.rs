//! Generates the `i18n` module from the message catalogues in `locales/` (one JSON file per
//! language; English is the default and the reference every other catalogue must match).

use std::path::PathBuf;

use leptos_i18n_build::options::CodegenOptions;
use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // `interpolate_display`: `t_string!` with variables, for attributes and titles.
    let config = Config::new("en")?
        .add_locale("es")?
        .parse_options(ParseOptions::default().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.rerun_if_locales_changed();
    translations.emit_diagnostics();
    // No docs in the generated module: they only slow the build.
    translations
        .generate_i18n_module_with_options(out, CodegenOptions::default().gen_docs(false))?;
    Ok(())
}
