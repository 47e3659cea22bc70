//! Runs the built binary; the test data and the independent model are `tests/model/`, shared
//! with the library's own tests.

pub use crate::model::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of `tagroute` did.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit status, showing stderr when it differs.
    #[track_caller]
    pub fn status(self, code: i32) -> Self {
        assert_eq!(
            self.status, code,
            "exit status; stderr:\n{}\nstdout:\n{}",
            self.stderr, self.stdout
        );
        self
    }

    /// Asserts a failed run: exit 2, nothing on stdout, exactly one line on stderr containing `needle`.
    #[track_caller]
    pub fn fails_with(self, needle: &str) -> Self {
        let run = self.status(2);
        assert!(
            run.stdout.is_empty(),
            "stdout must be empty on error, got:\n{}",
            run.stdout
        );
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one-line error expected:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            run.stderr
        );
        run
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `tagroute` with these arguments and no stdin.
pub fn tagroute(args: &[&str]) -> Run {
    tagroute_with(args, None, &[])
}

/// The program under test: `$TAGROUTE_TEST_BIN` when set (to run the suite on another build,
/// such as an installed one), else the one cargo built for the tests.
pub fn binary() -> PathBuf {
    std::env::var_os("TAGROUTE_TEST_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_tagroute").into(), PathBuf::from)
}

/// Runs `tagroute` with stdin and extra environment variables.
pub fn tagroute_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(args).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run tagroute");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let out = child.wait_with_output().expect("wait for tagroute");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Reads a Terraform file with a real HCL parser (python-hcl2) and returns its JSON form; `None`
/// when the parser is not installed outside CI (`.ci/run` installs it, and under CI a missing
/// parser fails the test rather than skip it).
pub fn hcl_to_json(text: &str) -> Option<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.tf");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, json, hcl2; print(json.dumps(hcl2.load(open(sys.argv[1]))))",
        ])
        .arg(&file)
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'hcl2'") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python-hcl2 is missing: the HCL read-back cannot be skipped there"
        );
        eprintln!("skipped: python-hcl2 is not installed");
        return None;
    }
    assert!(out.status.success(), "not HCL: {stderr}\n{text}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The example file shipped in `data/`.
pub fn example() -> String {
    repo()
        .join("data/ServiceTags_Example.json")
        .to_str()
        .unwrap()
        .to_owned()
}

/// Writes a service-tag file of `tags` (name, whether its networkFeatures hold UDR, prefixes) at
/// `path`, in the weekly download's shape, and gives the path as a string.
pub fn tag_file<P: AsRef<str>>(path: &Path, tags: &[(&str, bool, &[P])]) -> String {
    std::fs::write(path, tag_doc(tags)).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Writes a token file as a user keeps one: readable by its owner alone (tagroute refuses a
/// token file others can read).
pub fn write_token(path: &Path, token: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, token).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}
