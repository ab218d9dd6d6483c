"""An XE step (forward, backward, AdamW) reading the trunk's features from a `FeatureCache` against running the
frozen open_clip trunk every step (random weights), batch 8, one caption of 10-19 tokens per image."""
import dataclasses, tempfile
from types import SimpleNamespace as NS
import torch
from common import interleaved, count_flops, amp_ctx, images, captions
from dico_nb.data import clip_image_size
from dico_nb.model import Captioner, CaptionerConfig, tiny_config
from dico_nb.features import cache_features, FeatureCache
from dico_nb.train import xe_step, make_config, StepContext

B = 8
TRUNKS = {'tiny': None, 'paper-B32': 'ViT-B-32-quickgelu', 'paper-L14': 'ViT-L-14-quickgelu'}

def xe_setup(size, device='cpu'):
    "A captioner with a random open_clip trunk, a batch, an AdamW optimiser and a feature cache of the batch."
    torch.manual_seed(0)
    cfg = tiny_config() if size == 'tiny' else CaptionerConfig(trunk=TRUNKS[size], trunk_pretrained=None)
    policy = Captioner(cfg).to(device).train()
    batch = dict(images=images(clip_image_size(policy.trunk)).to(device),
                 keys=[f'{i}__img{i}' for i in range(B)], tokens=captions().to(device))
    tmp = tempfile.TemporaryDirectory()
    cache_features(policy.trunk, [batch], tmp.name)
    opt = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=2.5e-4)
    ctx = StepContext(make_config(method='xe', label_smoothing=0.), torch.device(device))
    return NS(policy=policy, batch=batch, opt=opt, tmp=tmp, ctx=ctx, cached=dataclasses.replace(ctx, features=FeatureCache(tmp.name)))

def bench_xe(size, repeats, device='cpu', amp='none') -> dict:
    "Seconds per XE step reading cached trunk features vs running the frozen trunk every step."
    s = xe_setup(size, device)
    def step(ctx):
        s.opt.zero_grad(set_to_none=True)
        with amp_ctx(device, amp): loss, _ = xe_step(s.policy, s.batch, ctx)
        loss.backward(); s.opt.step()
    ours, peer = (lambda: step(s.cached)), (lambda: step(s.ctx))
    flops = count_flops(ours)                  # also the warm-up; the trunk already ran to fill the cache
    return dict(flops=flops, ts=interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0), items=B)
