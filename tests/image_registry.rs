//! Image updates, the registry side: tags and their metadata from the CNCF
//! distribution registry on 127.0.0.1 (`support/registry.rs`, anonymous and
//! with basic auth), images pushed by skopeo from OCI layouts the tests
//! write (`support/images.rs`), and the tag each strategy chooses.
//! Needs docker-registry and skopeo (scripts/install-test-registry.sh).

#[path = "support/images.rs"]
mod images;
#[path = "support/registry.rs"]
mod registry;

use images::{Image, push, push_simple};
use kubectl_gitops::imageupdate::annotations::{AllowTags, ImageSpec, Platform, Strategy};
use kubectl_gitops::imageupdate::reference::ImageRef;
use kubectl_gitops::imageupdate::registry::{Registries, RegistrySettings};
use kubectl_gitops::imageupdate::tags::choose;

fn spec(image: &str, strategy: Strategy) -> ImageSpec {
    ImageSpec {
        alias: None,
        image: ImageRef::parse(image).unwrap(),
        strategy,
        allow: AllowTags::Any,
        ignore: Vec::new(),
        platforms: vec![Platform::parse("linux/amd64").unwrap()],
        pull_secret: None,
        force_update: false,
        helm: Default::default(),
        kustomize_name: None,
    }
}

fn settings() -> RegistrySettings {
    RegistrySettings { plain_http: true, ..RegistrySettings::default() }
}

/// The tag `spec` updates to (`None`: nothing qualifies).
fn newest(regs: &mut Registries, spec: &ImageSpec, current: Option<&str>) -> Option<(String, Option<String>)> {
    let candidates = regs.candidates(spec).unwrap();
    choose(spec, current, &candidates).unwrap().map(|c| (c.tag, c.digest))
}

fn tag(regs: &mut Registries, spec: &ImageSpec) -> Option<String> {
    newest(regs, spec, None).map(|(t, _)| t)
}

#[test]
fn each_strategy_and_filter_against_a_registry() {
    let reg = registry::Registry::start(None);
    let h = reg.host.as_str();
    for (t, created) in [
        ("1.0.0", "2026-01-01T00:00:00Z"),
        ("1.2.0", "2026-03-01T00:00:00Z"),
        ("1.10.0", "2026-02-01T00:00:00Z"),
        ("v1.11.0-rc.1", "2026-04-01T00:00:00Z"),
        ("latest", "2026-05-01T00:00:00.5+02:00"),
        ("main-3", "2026-04-30T23:00:00.1Z"),
    ] {
        push_simple(h, "team/app", t, created, None);
    }
    let image = |c: &str| format!("{h}/team/app{c}");
    let mut regs = Registries::new(settings());
    // semver: every version without a constraint (a pre-release too, as Image Updater has it) ...
    assert_eq!(tag(&mut regs, &spec(&image(""), Strategy::Semver)).as_deref(), Some("v1.11.0-rc.1"));
    // ... and within each constraint form.
    for (constraint, want) in [
        ("~1.2", Some("1.2.0")),
        ("^1.0", Some("1.10.0")),
        ("1.x", Some("1.10.0")),
        (">=1.0 <1.10", Some("1.2.0")),
        ("1.0 - 1.5", Some("1.2.0")),
        (">=1.11.0-0", Some("v1.11.0-rc.1")),
        ("<1.1 || >=2", Some("1.0.0")),
        ("1.0.0", Some("1.0.0")),
        ("3.x", None),
    ] {
        let s = spec(&image(&format!(":{constraint}")), Strategy::Semver);
        assert_eq!(tag(&mut regs, &s).as_deref(), want, "constraint {constraint}");
    }
    assert_eq!(tag(&mut regs, &spec(&image(""), Strategy::Alphabetical)).as_deref(), Some("v1.11.0-rc.1"));
    // newest-build: the config's created time, any offset.
    assert_eq!(tag(&mut regs, &spec(&image(""), Strategy::NewestBuild)).as_deref(), Some("main-3"));
    // digest: the tag's current manifest digest.
    let pushed = push_simple(h, "team/app", "stable", "2026-06-01T00:00:00Z", None);
    let got = newest(&mut regs, &spec(&image(":stable"), Strategy::Digest), Some("stable")).unwrap();
    assert_eq!(got, ("stable".to_string(), Some(pushed.clone())));
    let repushed = push_simple(h, "team/app", "stable", "2026-06-02T00:00:00Z", None);
    assert_ne!(pushed, repushed);
    let got = newest(&mut regs, &spec(&image(":stable"), Strategy::Digest), Some("stable")).unwrap();
    assert_eq!(got.1.as_deref(), Some(repushed.as_str()));
    // allow-tags and ignore-tags.
    let mut s = spec(&image(""), Strategy::NewestBuild);
    s.allow = AllowTags::Regexp(regex::Regex::new(r"^1\.").unwrap());
    assert_eq!(tag(&mut regs, &s).as_deref(), Some("1.2.0"));
    s.ignore = vec!["1.2*".into()];
    assert_eq!(tag(&mut regs, &s).as_deref(), Some("1.10.0"));
    let mut s = spec(&image(""), Strategy::Alphabetical);
    s.ignore = vec!["v*".into(), "[s-z]*".into()];
    assert_eq!(tag(&mut regs, &s).as_deref(), Some("main-3"));
    // The semver strategy will not move from a tag that is no version.
    let candidates = regs.candidates(&spec(&image(""), Strategy::Semver)).unwrap();
    let e = choose(&spec(&image(""), Strategy::Semver), Some("latest"), &candidates).unwrap_err();
    assert!(e.contains("not a semantic version"), "{e}");
}

#[test]
fn platforms_of_image_indexes() {
    let reg = registry::Registry::start(None);
    let h = reg.host.as_str();
    let multi = push(
        h,
        "team/multi",
        "3.0.0",
        &[
            Image { platform: "linux/amd64", created: "2026-06-01T00:00:00Z" },
            Image { platform: "linux/arm64/v8", created: "2026-07-01T00:00:00Z" },
        ],
        None,
    );
    push(h, "team/multi", "4.0.0", &[Image { platform: "linux/arm64", created: "2026-08-01T00:00:00Z" }], None);
    push(h, "team/multi", "2.0.0", &[Image { platform: "linux/arm/v7", created: "2026-09-01T00:00:00Z" }], None);
    let mut regs = Registries::new(settings());
    let image = format!("{h}/team/multi");
    let with = |platforms: &[&str]| {
        let mut s = spec(&image, Strategy::NewestBuild);
        s.platforms = platforms.iter().map(|p| Platform::parse(p).unwrap()).collect();
        s
    };
    // amd64: only the index has an image for it; its digest is the index's.
    let got = newest(&mut regs, &with(&["linux/amd64"]), None).unwrap();
    assert_eq!(got, ("3.0.0".to_string(), Some(multi)));
    // arm64 (a variant in the index matches os/arch): the newest is 4.0.0.
    assert_eq!(tag(&mut regs, &with(&["linux/arm64"])).as_deref(), Some("4.0.0"));
    assert_eq!(tag(&mut regs, &with(&["linux/arm/v7"])).as_deref(), Some("2.0.0"));
    assert_eq!(tag(&mut regs, &with(&["linux/arm/v6"])), None);
    assert_eq!(tag(&mut regs, &with(&["linux/s390x"])), None);
    // Several platforms: any of them.
    assert_eq!(tag(&mut regs, &with(&["linux/amd64", "linux/arm/v7"])).as_deref(), Some("2.0.0"));
    // The index's newest build among the wanted platforms: 3.0.0 is July for arm64.
    let mut s = with(&["linux/arm64"]);
    s.ignore = vec!["4.*".into()];
    assert_eq!(tag(&mut regs, &s).as_deref(), Some("3.0.0"));
    // semver does not look at platforms (Image Updater fetches no metadata for it).
    assert_eq!(
        tag(&mut regs, &{
            let mut s = with(&["linux/s390x"]);
            s.strategy = Strategy::Semver;
            s
        })
        .as_deref(),
        Some("4.0.0")
    );
}

#[test]
fn basic_auth_from_the_docker_config() {
    let reg = registry::Registry::start(Some(("ci", "p4ss")));
    let h = reg.host.as_str();
    push_simple(h, "team/private", "1.0.0", "2026-01-01T00:00:00Z", Some("ci:p4ss"));
    push_simple(h, "team/private", "1.1.0", "2026-02-01T00:00:00Z", Some("ci:p4ss"));
    let image = format!("{h}/team/private");
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.json");
    // Without credentials: the registry's answer, naming the URL.
    std::fs::write(&config, "{}").unwrap();
    let mut regs = Registries::new(RegistrySettings { docker_config: Some(config.clone()), ..settings() });
    let e = regs.candidates(&spec(&image, Strategy::Semver)).unwrap_err().to_string();
    assert!(e.contains("401") && e.contains(h), "{e}");
    // Docker config auths.
    std::fs::write(&config, format!(r#"{{"auths": {{"{h}": {{"auth": "Y2k6cDRzcw=="}}}}}}"#)).unwrap();
    let mut regs = Registries::new(RegistrySettings { docker_config: Some(config.clone()), ..settings() });
    assert_eq!(tag(&mut regs, &spec(&image, Strategy::NewestBuild)).as_deref(), Some("1.1.0"));
    // Another user's entry is not used for this host.
    std::fs::write(&config, r#"{"auths": {"127.0.0.1:1": {"auth": "Y2k6cDRzcw=="}}}"#).unwrap();
    let mut regs = Registries::new(RegistrySettings { docker_config: Some(config), ..settings() });
    assert!(regs.candidates(&spec(&image, Strategy::Semver)).unwrap_err().to_string().contains("401"));
}

#[test]
fn unreachable_or_plain_registries_are_clear_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut regs = Registries::new(settings());
    let e = regs.candidates(&spec(&format!("127.0.0.1:{port}/team/app"), Strategy::Semver)).unwrap_err().to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    // TLS is the default: a plain HTTP registry is not reached without --plain-http or --insecure-registry.
    let reg = registry::Registry::start(None);
    push_simple(&reg.host, "team/app", "1.0.0", "2026-01-01T00:00:00Z", None);
    let mut regs = Registries::new(RegistrySettings::default());
    assert!(regs.candidates(&spec(&format!("{}/team/app", reg.host), Strategy::Semver)).is_err());
    let mut regs =
        Registries::new(RegistrySettings { insecure: vec![reg.host.clone()], ..RegistrySettings::default() });
    assert_eq!(tag(&mut regs, &spec(&format!("{}/team/app", reg.host), Strategy::Semver)).as_deref(), Some("1.0.0"));
}
