//! `junit.xml`: one test case per gate, for CI test-report views.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::{Report, ReportError};
use crate::gates::GateStatus;
use crate::outcome::RunOutcome;

/// The JUnit XML report.
pub struct Junit;

impl Report for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }
    fn kind(&self) -> &'static str {
        "junit"
    }
    fn render(&self, outcome: &RunOutcome) -> Result<Vec<u8>, ReportError> {
        let mut suite = TestSuite::new(format!("oomguard.{}", outcome.scenario));
        for gate in &outcome.gates {
            let status = match gate.status {
                GateStatus::Pass | GateStatus::Warn => TestCaseStatus::success(),
                GateStatus::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(gate.summary.clone());
                    s.set_type("gate");
                    s.set_description(evidence_text(gate));
                    s
                }
                GateStatus::Skipped => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(gate.summary.clone());
                    s
                }
            };
            let mut case = TestCase::new(gate.name, status);
            case.set_classname(format!("oomguard.{}.{}", outcome.scenario, outcome.service));
            case.set_system_out(format!(
                "{}: {}\n{}",
                gate.status.word(),
                gate.summary,
                evidence_text(gate)
            ));
            suite.add_test_case(case);
        }
        suite.set_time(std::time::Duration::from_secs_f64(outcome.duration_s));
        let mut report = JunitReport::new("oomguard");
        report.add_test_suite(suite);
        report
            .to_string()
            .map(String::into_bytes)
            .map_err(|e| ReportError::Render {
                file: self.file_name(),
                message: e.to_string(),
            })
    }
}

fn evidence_text(gate: &crate::gates::GateResult) -> String {
    gate.evidence
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}
