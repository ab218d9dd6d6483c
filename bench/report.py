"""The report: each measurement's dict (`ts` seconds per call per side, `items` per call, optional `flops`) turned into
a table row with its target and met / missed, the memory table, the phase table, and `bench/RESULTS.md`."""
import os, statistics, time
from common import machine

def rate(ts, items):
    "Median items/s and its range over repeats."
    m = statistics.median(ts)
    return f'{items / m:.3g} ({items / max(ts):.3g}-{items / min(ts):.3g})'

def ratio(slow, fast):
    "Median (min-max) of per-repeat ratios, and the median."
    r = [a / b for a, b in zip(slow, fast)]
    return f'**{statistics.median(r):.2f}x** ({min(r):.2f}-{max(r):.2f})', statistics.median(r)

def gflops_note(res, ours='ours', peer='peer', peak=0.):
    "Useful work (our FLOPs) per step and the rate each side achieves with it; on GPU as % of peak."
    f = res.get('flops')
    if not f: return ''
    rates = {n: f / statistics.median(res['ts'][n]) / 1e9 for n in (ours, peer)}
    txt = f"{f / 1e9:.1f} GFLOP/step; {rates[ours]:.0f} / {rates[peer]:.0f} GFLOP/s"
    if peak: txt += f" ({100 * rates[ours] / 1e3 / peak:.1f}% / {100 * rates[peer] / 1e3 / peak:.1f}% of {peak:.0f} TFLOP/s)"
    return txt

class Report:
    "Rows, notes and tables collected as the measurements come in."
    def __init__(self, say=print):
        self.rows, self.notes, self.mem_rows, self.phases, self.say, self.met = [], [], [], {}, say, {}
        self.sections = []  # (title, markdown) of further tables, e.g. the beam-search profiles

    def add(self, no, what, size, res, target, peer_name, ours='ours', peer='peer', peak=0.):
        "A speed row: `res['ts'][peer]` / `res['ts'][ours]` per repeat, against `target` (None: no target)."
        ts = res['ts']; r, med = ratio(ts[peer], ts[ours])
        met = '' if target is None else f">= {target}x: {'met' if med >= target else '**missed**'}"
        if target is not None: self.met[f'{what}, {size}'] = med >= target
        self.rows.append(f"| {no} | {what} | {size} | {rate(ts[ours], res['items'])} | {rate(ts[peer], res['items'])} "
                         f"({peer_name}) | {r} | {met} | {gflops_note(res, ours, peer, peak)} |")
        self.say(self.rows[-1])
        return med

    def memory(self, size, m, labels, target=1.2):
        "Memory rows of one size; the DiCO step's growth against XE's, with `target`."
        mib = lambda b: f'{b / 2**20:.0f}'
        for kind, label in labels:
            g = m[kind]['growth'] / max(1, m['xe']['growth'])
            met = f"<= {target}x: {'met' if g <= target else '**missed**'}" if kind == 'dico' else ''
            if kind == 'dico': self.met[f'DiCO memory growth vs XE, {size}'] = g <= target
            self.mem_rows.append(f"| {size} | {label} | {mib(m[kind]['before'])} | {mib(m[kind]['peak'])} | {mib(m[kind]['growth'])} | "
                                 f"{m[kind]['peak'] / m['xe']['peak']:.2f}x | {g:.2f}x | {met} |")
        self.say(*self.mem_rows[-len(labels):], sep='\n')

def phase_table(phases):
    "Markdown table of the DiCO phases: one column per setup, 'ours / peer' seconds in each cell (and ours with fresh reward keys)."
    names = list(dict.fromkeys(n for p in phases.values() for side in p.values() for n in side))
    cols = {f'{setup}: {side}': p[side] for setup, p in phases.items() for side in p}
    head = '| phase | ' + ' | '.join(cols) + ' |\n|---|' + '---|' * len(cols) + '\n'
    body = ''.join(f"| {n} | " + ' | '.join(f"{c.get(n, 0.):.2f}" for c in cols.values()) + ' |\n' for n in names)
    total = '| **total** | ' + ' | '.join(f"**{sum(c.values()):.2f}**" for c in cols.values()) + ' |\n'
    return head + body + total

def work_table(flops:dict,   # phase -> FLOPs of our step's phase (matmuls and convolutions, FlopCounterMode)
               seconds:dict, # phase -> median seconds
               peak:float)->str: # the core's measured GFLOP/s
    "Markdown table: each phase's counted work, its time, the GFLOP/s achieved and their share of `peak`."
    rows, F, T = [], 0., 0.
    for n, t in seconds.items():
        f = flops.get(n, 0.) / 1e9; F += f; T += t
        rows.append(f"| {n} | {f:.1f} | {t:.2f} | {f / t:.0f} | {f / t / peak:.0%} |" if f and t else f"| {n} | {f:.1f} | {t:.2f} | – | – |")
    rows.append(f"| **total** | **{F:.1f}** | **{T:.2f}** | **{F / T:.0f}** | **{F / T / peak:.0%}** |")
    return '| phase | GFLOP counted | seconds | GFLOP/s | share of the core peak |\n|---|---:|---:|---:|---:|\n' + '\n'.join(rows) + '\n'

def write(rep:Report, out, cmd, device, amp, minutes, load0, setups_text, peak=0.):
    "The whole of `bench/RESULTS.md` (also printed)."
    cuda = device != 'cpu'
    load1 = os.getloadavg()
    what_mem = ('torch.cuda.max_memory_allocated after reset_peak_memory_stats' if cuda else
                'peak RSS (VmHWM from /proc/self/status, reset through /proc/self/clear_refs before the step), with '
                'MALLOC_MMAP_THRESHOLD_=1 MiB so freed buffers leave RSS')
    summary = ''.join(f"- {k}: {'met' if v else '**missed**'}\n" for k, v in rep.met.items())
    text = f"""# dico_nb benchmarks

`{cmd}` — {time.strftime('%Y-%m-%d %H:%M')} UTC, {minutes:.1f} min.

Machine: {machine(device)}. Load average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load0)} at the start,
{'/'.join(f'{x:.1f}' for x in load1)} at the end (other jobs shared the cores; repeats are interleaved A B, B A, ... so
that load hits both sides alike). Random weights throughout (nothing can be downloaded). {'fp32 on CPU.' if not cuda else f'autocast {amp}.'}
{'' if cuda else '''One torch thread per process (`--threads 1`, the default): with 2 OpenMP threads on 2 cores that other jobs also
use, every small op waits for a descheduled thread and costs milliseconds, which penalises whichever side runs more
small ops and turns ratios into measurements of contention (see the correction in `bench_decoding.md`).
'''}Throughputs: median (slowest-fastest) of the repeats; ratio = median (min-max) of the per-repeat ratios of peer time
to ours. "work": FLOPs of our step (the useful work), divided by each side's median time.

Targets:

{summary}
| # | measurement | size | ours | peer | ours faster by | target | work: our FLOPs per step; achieved by ours / peer |
|---|---|---|---|---|---|---|---|
""" + '\n'.join(rep.rows) + f"""

Peak memory of one training step (forward, backward and optimiser step, after a zero-gradient optimiser step has
allocated the optimiser state), each in a fresh process, measured as {what_mem}. "before" = what the process held
before the step (imports, weights, optimiser state, reward model); batch 8 images; the XE step teacher-forces one
caption per image (the reference's XE layout), the DiCO steps 8 x 5 candidates. "ours, all logits at once" is the
package's step with `dico_nb.logprobs.HEAD_CHUNK = 0` (the sequence log-probs as they were computed before chunking).
Ratios are against the XE step.

| size | step | before (MiB) | peak (MiB) | growth during the step (MiB) | peak vs XE | growth vs XE | target |
|---|---|---|---|---|---|---|---|
""" + '\n'.join(rep.mem_rows) + """

Where a DiCO step's time goes (median seconds per phase over the timed repeats; ours timed through `dico_step`'s
`mark` hook, the peer through the same marks in its step):

""" + phase_table(rep.phases) + ''.join(f"\n{title}\n\n{table}" for title, table in rep.sections) + """
Checks done before timing:

""" + ''.join(f'- {n}\n' for n in rep.notes) + '\n' + setups_text
    print(text)
    if out: open(out, 'w').write(text)
    return text
