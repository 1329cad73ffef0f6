//! Per-job sandbox limits: linear memory and the plugin's own CPU time.

use wasmtime::ResourceLimiter;

/// The limits one plugin instance runs under.
#[derive(Debug, Clone, Copy)]
pub struct SandboxLimits {
    pub memory_bytes: usize,
    /// CPU budget in epoch ticks.
    pub cpu_ticks: u64,
}

/// Enforces the memory limit and remembers that it did, so the job's error can say so; and the
/// largest linear memory the instance reached, which the job's log reports.
pub struct MemoryLimiter {
    limit: usize,
    /// The size a refused growth asked for.
    pub refused_growth: Option<usize>,
    /// The largest size a linear memory grew to, in bytes.
    pub peak: usize,
}

impl MemoryLimiter {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            refused_growth: None,
            peak: 0,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused_growth = Some(desired);
            // An error (rather than `Ok(false)`) traps at once instead of letting the guest's
            // allocator abort with an opaque `unreachable`.
            return Err(wasmtime::format_err!(
                "memory limit of {} MiB exceeded (tried to grow to {} MiB)",
                self.limit >> 20,
                desired >> 20
            ));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
