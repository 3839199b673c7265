//! Arbitrary text as `.proto` sources: compiling must fail with an error or succeed (through
//! the lean linker or protox), and the result must go through every rule without a panic and
//! without breaking against itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protoc_gen_cloudrun::breaking::{
    BreakingConfig, CheckOptions, ConfigVersion, check_images, compile_sources, rules,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A form feed splits the input into two files, so imports between them get exercised.
    let mut parts = text.splitn(2, '\u{c}');
    let mut files = vec![("a.proto".to_string(), parts.next().unwrap_or("").to_string())];
    if let Some(b) = parts.next() {
        files.push(("b.proto".to_string(), b.to_string()));
    }
    let Ok(image) = compile_sources(files, "fuzz") else {
        return;
    };
    let config = BreakingConfig {
        version: ConfigVersion::V2,
        rules: rules::all().iter().collect(),
        ignore: Vec::new(),
        ignore_only: Default::default(),
        ignore_unstable_packages: false,
    };
    let same = check_images(&image, &image, &config, &CheckOptions::default());
    assert!(same.is_empty(), "sources break against themselves: {same:?}");
});
