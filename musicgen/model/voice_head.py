"""The voice-leading head: a learned score for each pitch a voice may sing, from its intervals
against the other voices.

When the network is about to write a four-voice piece's note (the token before is ``VOICE_v``),
each candidate pitch ``p`` gets a bias added to its logit, summed over the other voices ``u``
that sound (read from the tokens so far, ``tokens.voice_context``):

* ``moves[pair, before, now, v_motion, u_motion]``: the interval class (semitones mod 12)
  between v and u just before this onset and with ``p``, v's motion to ``p`` (down, same, up,
  or no earlier note) and u's motion at this onset (down, none, up): where parallel fifths and
  octaves, contrary and oblique motion live;
* ``spacing[pair, distance, v_motion]``: how far ``p`` lies above or below u (a unison, within
  an octave, two octaves, more): crossings and spacing;
* ``steps[v, leap]``: v's own melodic interval to ``p`` (-12..12 semitones, or none);
* ``tonal[v, final bar, degree]``: ``p``'s pitch class above the bass's commonest pitch class so
  far (in a chorale mostly its tonic), before and in the final bar: the key, and the cadence's chord.

Every entry starts at zero and is learned from the corpus by maximum likelihood (``musicgen
train-voice-head``); nothing is set by hand and nothing is forbidden. Trained on the corpus's
own pieces, a log-linear score matches each feature's frequency to the corpus's (its gradient is
the difference of the two), so a motion Bach avoids gets the low odds it has in Bach. One-line
tunes carry no VOICE tokens and are left untouched. ``voice_bias`` works on any batch of rows in
training and sampling alike.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor

from ..music.piece import MAX_PITCH, MAX_VOICES, MIN_PITCH
from ..tokens import voice_context as vc
from ..tokens.codec import PITCH, VOICE

N_PITCHES = MAX_PITCH - MIN_PITCH + 1  # the PITCH tokens, in order
OTHERS = torch.tensor([[u for u in range(MAX_VOICES) if u != v] for v in range(MAX_VOICES)])  # (V, V - 1)
OTHER_VOICES = MAX_VOICES - 1
N_PAIRS = MAX_VOICES * OTHER_VOICES  # ordered (v, u)
INTERVALS, NO_INTERVAL = vc.INTERVALS, vc.NO_INTERVAL  # 12 classes and "no earlier note" (12)
V_MOTIONS, FIRST_NOTE = 4, 3  # down, same, up, and "no earlier note" (3)
U_MOTIONS = 3  # down, none, up
DISTANCE_EDGES = torch.tensor([-25, -13, -1, 0, 12, 24])  # semitones p - u: 7 bins, the unison alone
DISTANCES = len(DISTANCE_EDGES) + 1
LEAPS, FIRST_LEAP = 2 * 12 + 2, 2 * 12 + 1  # -12..12 semitones (0..24), and "no earlier note" (25)
CANDIDATES = torch.arange(1, N_PITCHES + 1)  # pitches as the context codes them (0 = none)


def writes_voice(tokens: torch.Tensor) -> torch.Tensor:
    """True where a token is ``VOICE_v``: the next token is that voice's pitch. Any shape."""
    return (tokens >= VOICE.offset) & (tokens < VOICE.stop)


def voice_bias(
    moves: Tensor,
    spacing: Tensor,
    steps: Tensor,
    tonal: Tensor,
    raws: Tensor,
    others: Tensor,
    candidates: Tensor,
    edges: Tensor,
) -> Tensor:
    """The biases (N, N_PITCHES) of the PITCH logits of rows whose contexts raws (N, RAW_SIZE) follow
    a VOICE token, from the four tables (see the module docstring); ``others`` is ``OTHERS``,
    ``candidates`` ``CANDIDATES`` and ``edges`` ``DISTANCE_EDGES``. The fast sampler runs the same
    maths in numpy (``sampling.voice_scores``)."""
    latest = raws[:, vc.LATEST : vc.LATEST + MAX_VOICES]
    before = raws[:, vc.BEFORE : vc.BEFORE + MAX_VOICES]
    flags = raws[:, vc.FLAGS : vc.FLAGS + MAX_VOICES] > 0
    voice = raws[:, vc.NEXT_VOICE]  # (N,): the voice about to sing
    other = others[voice]  # (N, 3)
    u_now = latest.gather(1, other)
    u_last = before.gather(1, other)
    u_moved = flags.gather(1, other) & (u_last > 0)
    u_before = torch.where(u_moved, u_last, u_now)
    v_before = latest.gather(1, voice.unsqueeze(1))  # (N, 1): v has not sung at this onset yet
    silent = (v_before == 0) | (u_before == 0)
    interval_before = torch.where(silent, torch.full_like(u_now, NO_INTERVAL), torch.remainder(v_before - u_before, 12))
    u_motion = torch.where(u_moved, torch.sign(u_now - u_before) + 1, torch.ones_like(u_now))  # (N, 3)
    p = candidates.view(1, 1, -1)
    interval_now = torch.remainder(p - u_now.unsqueeze(2), 12)  # (N, 3, P)
    v_motion = torch.where(
        v_before == 0, torch.full_like(v_before, FIRST_NOTE), torch.sign(p[:, 0] - v_before) + 1
    )  # (N, P)
    pair = voice.unsqueeze(1) * OTHER_VOICES + torch.arange(OTHER_VOICES).unsqueeze(0)  # (N, 3): ordered (v, u)
    index = ((pair * INTERVALS + interval_before).unsqueeze(2) * 12 + interval_now) * V_MOTIONS
    index = (index + v_motion.unsqueeze(1)) * U_MOTIONS + u_motion.unsqueeze(2)
    distance = torch.bucketize(p - u_now.unsqueeze(2), edges)
    spaced = (pair.unsqueeze(2) * DISTANCES + distance) * V_MOTIONS + v_motion.unsqueeze(1)
    sounding = (u_now > 0).unsqueeze(2)
    against = ((moves[index] + spacing[spaced]) * sounding).sum(1)  # (N, P)
    leap = torch.where(v_before == 0, torch.full_like(v_before, FIRST_LEAP), (p[:, 0] - v_before).clamp(-12, 12) + 12)
    bass_classes = raws[:, vc.BASS_CLASSES : vc.BASS_CLASSES + 12]  # (N, 12): the bass's notes so far per pitch class
    tonic = bass_classes.argmax(1, keepdim=True)  # (N, 1): its commonest pitch class
    heard = bass_classes.sum(1, keepdim=True) > 0
    degree = torch.where(heard, torch.remainder(p[:, 0] - tonic, 12), torch.full_like(tonic, NO_INTERVAL))  # (N, P)
    tonal_index = (voice.unsqueeze(1) * 2 + raws[:, vc.FINAL_BAR : vc.FINAL_BAR + 1]) * INTERVALS + degree  # (N, P)
    return against + steps[voice.unsqueeze(1) * LEAPS + leap] + tonal[tonal_index]


class VoiceHead(nn.Module):
    """``forward(raws) -> (N, N_PITCHES)`` biases of the PITCH logits, raws (N, RAW_SIZE) the voice
    contexts after a VOICE token (``tokens.voice_context``)."""

    def __init__(self):
        super().__init__()
        self.moves = nn.Parameter(torch.zeros(N_PAIRS * INTERVALS * 12 * V_MOTIONS * U_MOTIONS))
        self.spacing = nn.Parameter(torch.zeros(N_PAIRS * DISTANCES * V_MOTIONS))
        self.steps = nn.Parameter(torch.zeros(MAX_VOICES * LEAPS))
        self.tonal = nn.Parameter(torch.zeros(MAX_VOICES * 2 * INTERVALS))

    def forward(self, raws: torch.Tensor) -> torch.Tensor:
        return voice_bias(*self.tables(), raws.long(), OTHERS, CANDIDATES, DISTANCE_EDGES)

    def tables(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The learned tables, in ``voice_bias``'s order."""
        return self.moves, self.spacing, self.steps, self.tonal


def add_voice_bias(
    head: VoiceHead, logits: torch.Tensor, tokens: torch.Tensor, raws: torch.Tensor, strength: float = 1.0
) -> torch.Tensor:
    """``logits`` (N, V) with the head's biases, times ``strength``, added to the PITCH logits of the
    rows whose token ``tokens`` (N,) is a VOICE token; raws (N, RAW_SIZE) the contexts after those tokens."""
    rows = writes_voice(tokens).nonzero().view(-1)
    if rows.numel() == 0:
        return logits
    bias = head(raws.index_select(0, rows)).to(logits.dtype)
    if strength != 1.0:
        bias = bias * strength
    logits = logits.clone()
    logits[rows, PITCH.offset : PITCH.stop] += bias
    return logits
