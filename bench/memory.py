"""Peak memory of one training step (forward, backward and optimiser step, after a zero-gradient optimiser step has
allocated the optimiser state), each kind in a fresh process: CUDA `max_memory_allocated`, or on CPU the peak RSS
(VmHWM, reset through /proc/self/clear_refs before the step) with MALLOC_MMAP_THRESHOLD_=1 MiB so freed buffers leave
RSS. Kinds: 'xe' (our XE step, one caption per image), 'dico' (the package's `dico_step`, log-probs chunked),
'dico-full' (the same with `HEAD_CHUNK = 0`: all logits at once, as before), 'dico-peer' (the reference's recipe)."""
import dataclasses, gc, multiprocessing as mp, os
import torch, transformers
from common import amp_ctx, captions, fresh_keys
from dico_speed import dico_setup, peer_step, KEYS
import dico_nb.logprobs
from dico_nb.train import dico_step, xe_step, make_config
from dico_nb.reward import fit_images

KINDS = ('xe', 'dico', 'dico-full', 'dico-peer')

def _rss(field):
    "VmRSS / VmHWM of this process in bytes (Linux)."
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith(field))

def memory_child(kind, size, recipe, device, amp, threads) -> dict:
    "Bytes held before one `kind` step, at its peak, and the growth."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    if kind == 'dico-full': dico_nb.logprobs.HEAD_CHUNK = 0
    s = dico_setup(size, recipe, device)
    policy = s.peer if kind == 'dico-peer' else s.policy
    opt = (torch.optim.AdamW if kind == 'xe' else torch.optim.Adam)([p for p in policy.parameters() if p.requires_grad], lr=1e-6)
    if kind == 'xe': del s.peer, s.peer_ref, s.ctx.reward, s.ctx.reference  # an XE run holds the captioner only
    elif kind == 'dico-peer': del s.policy, s.ctx.reference
    else: del s.peer, s.peer_ref
    gc.collect()
    xe_batch = dict(images=s.pixels, tokens=captions().to(device))
    keys = (lambda: KEYS) if s.recipe.cached else fresh_keys
    def step():
        opt.zero_grad(set_to_none=True)
        with amp_ctx(device, amp):
            batch = dict(xe_batch, keys=keys())
            loss = (xe_step(policy, batch, dataclasses.replace(s.ctx, cfg=make_config(s.ctx.cfg, method='xe')))[0] if kind == 'xe' else
                    peer_step(s, batch) if kind == 'dico-peer' else dico_step(policy, batch, s.ctx)[0])
        loss.backward(); opt.step()
    for p in opt.param_groups[0]['params']: p.grad = torch.zeros_like(p)
    opt.step()                                 # allocates the optimiser state (a zero-gradient step)
    if s.recipe.cached and kind in ('dico', 'dico-full'): s.scorer.image_features(fit_images(s.scorer, s.pixels), KEYS)  # the reward's image cache, filled
    cuda = torch.device(device).type == 'cuda'
    if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); before = torch.cuda.memory_allocated()
    else:
        before = _rss('VmRSS')
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')  # reset the peak-RSS mark (Linux >= 4.0)
    step()
    if cuda: torch.cuda.synchronize(); peak = torch.cuda.max_memory_allocated()
    else: peak = _rss('VmHWM')
    return dict(before=before, peak=peak, growth=peak - before)

def bench_memory(size, recipe='kind', device='cpu', amp='none', threads=1, kinds=KINDS) -> dict:
    "Memory of each kind of step, each measured in a fresh process."
    os.environ['MALLOC_MMAP_THRESHOLD_'] = str(1 << 20)  # children: large buffers are mmapped, freed ones leave RSS
    out = {}
    for kind in kinds:
        with mp.get_context('spawn').Pool(1) as pool: out[kind] = pool.apply(memory_child, (kind, size, recipe, device, amp, threads))
    return out
