//! Generates a directory of plain manifests for benchmarks: mixed kinds
//! (Deployments, Services, ConfigMaps, Secrets, ServiceAccounts, Roles)
//! spread over 10 namespaces (or as many as asked) and 100 files, about 300
//! bytes per object.

use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code)] // used by benches/render.rs, not by every includer
pub fn generate(dir: &Path, objects: usize) -> std::io::Result<()> {
    generate_in(dir, objects, 10)
}

/// [`generate`] with the objects spread over `namespaces` namespaces
/// (`bench-0` ...).
pub fn generate_in(dir: &Path, objects: usize, namespaces: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let namespaces = namespaces.max(1);
    let files = 100.min(objects.max(1));
    let mut bufs = vec![String::new(); files];
    for i in 0..objects {
        // Each file holds objects of many namespaces, so removing files removes
        // objects everywhere (not whole namespaces).
        let ns = format!("bench-{}", (i + i / files) % namespaces);
        let buf = &mut bufs[i % files];
        if !buf.is_empty() {
            buf.push_str("---\n");
        }
        let before = buf.len();
        let _ = match i % 6 {
            0 => write!(
                buf,
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: {ns}\n  labels:\n    app: app-{i}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/app:{i}\n        ports:\n        - containerPort: 8080\n          protocol: TCP\n        env:\n        - name: MODE\n          value: \"production\"\n"
            ),
            1 => write!(
                buf,
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: {ns}\nspec:\n  selector:\n    app: app-{i}\n  ports:\n  - port: 80\n    targetPort: 8080\n    protocol: TCP\n"
            ),
            2 => write!(
                buf,
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\n  namespace: {ns}\ndata:\n  mode: production\n  replicas: \"3\"\n  config.yaml: |\n    server:\n      port: 8080\n      workers: 4\n"
            ),
            3 => write!(
                buf,
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-{i}\n  namespace: {ns}\ntype: Opaque\ndata:\n  password: c2VjcmV0LXZhbHVlLXt7aX19\n"
            ),
            4 => write!(
                buf,
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{i}\n  namespace: {ns}\n  labels:\n    team: bench\n"
            ),
            _ => write!(
                buf,
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: role-{i}\n  namespace: {ns}\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps, secrets]\n  verbs: [get, list, watch]\n"
            ),
        };
        // Every object carries the same two annotations (~80 bytes), for ~300 bytes an object.
        let meta_end = buf[before..].find("metadata:\n").map(|p| before + p + "metadata:\n".len()).unwrap();
        buf.insert_str(
            meta_end,
            "  annotations:\n    owner: team-platform\n    description: generated for the render benchmark\n",
        );
    }
    for (n, buf) in bufs.iter().enumerate() {
        std::fs::write(dir.join(format!("manifests-{n:03}.yaml")), buf)?;
    }
    Ok(())
}
