//! `gst-inspect-1.0` documents both elements and every property they add.

mod support;

#[test]
fn gst_inspect_documents_every_property() {
    support::init();
    for (element, properties) in [
        ("shmframesink", &["stream", "slots", "mode"][..]),
        (
            "shmframesrc",
            &[
                "stream",
                "mode",
                "wait-for-writer",
                "eos-on-close",
                "num-buffers",
            ][..],
        ),
    ] {
        let output = support::run(&mut support::gst_tool("gst-inspect-1.0", &[element]));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "gst-inspect-1.0 {element}: {text}");
        for property in properties {
            // A property line is "  NAME  : blurb"; the blurb must say something.
            let line = text
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{property} ")))
                .unwrap_or_else(|| panic!("{element} has no property {property}:\n{text}"));
            let blurb = line.split_once(':').map_or("", |(_, blurb)| blurb.trim());
            assert!(
                blurb.len() > 20,
                "{element}.{property} is not documented: {line}"
            );
        }
    }
}
