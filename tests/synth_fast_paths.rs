//! The synth pipeline's fast paths give what the general paths give, for every
//! stack of this repository: the YAML writer (`sockstack::emit::yaml`) writes each
//! template itself, byte for byte as serde_yaml would, and the checks of a
//! synthesized template find what they find in the same template read as a document.

use sockstack::sources::HandlerSources;
use std::path::Path;

fn stacks() -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for (stacks, handlers) in [
        ("stacks", "handlers"),
        ("examples/chat/stacks", "examples/chat/handlers"),
        ("examples/minimal/stacks", "examples/minimal/handlers"),
        (
            "tests/fixtures/dev-project/stacks",
            "tests/fixtures/dev-project/handlers",
        ),
    ] {
        for entry in std::fs::read_dir(root.join(stacks)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                out.push((path, root.join(handlers)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fast_writer_writes_every_repository_stack_as_serde_yaml_does() {
    let stacks = stacks();
    assert!(stacks.len() >= 5, "found {stacks:?}");
    for (file, handlers) in stacks {
        let handlers = HandlerSources::open(&handlers).unwrap();
        let model = sockstack::model::load(&file, &handlers).unwrap();
        let template = sockstack::synth::synth(&model);
        let fast = sockstack::emit::yaml::to_string(&template)
            .unwrap_or_else(|| panic!("{}: the fast writer fell back", file.display()));
        assert!(
            fast == serde_yaml::to_string(&template).unwrap(),
            "{}: the fast writer differs from serde_yaml",
            file.display()
        );
    }
}

#[test]
fn checks_of_a_synthesized_template_find_what_they_find_in_its_document() {
    for (file, handlers) in stacks() {
        let handlers = HandlerSources::open(&handlers).unwrap();
        let model = sockstack::model::load(&file, &handlers).unwrap();
        let mut template = sockstack::synth::synth(&model);
        // Something for the security rules to find in every stack.
        for resource in template.resources.values_mut() {
            if let sockstack::cfn::Properties::Permission(p) = &mut resource.properties {
                p.principal = "*";
            }
        }
        let mut raw = sockstack::raw::RawTemplate::from_value(template.to_value()).unwrap();
        raw.body_bytes = 60_000;
        let general = sockstack::check::check(&raw);
        assert!(
            general.iter().any(|f| f.rule == "permission-any-principal"),
            "{}: {general:?}",
            file.display()
        );
        assert_eq!(
            sockstack::check::check_template(&template, 60_000),
            general,
            "{}",
            file.display()
        );
    }
}
