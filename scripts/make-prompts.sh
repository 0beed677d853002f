#!/usr/bin/env bash
# Regenerate the shipped voice prompts (assets/prompts/<prompt id>.wav) with
# espeak-ng's Mandarin voice: 16 kHz, 16-bit, mono, silence trimmed. The ids
# are hal/speaker.ts PROMPTS; the words match src/core/messages.ts. Operators
# record their own and point devices.speaker.dir at them (docs/modes.md).
# Needs: apt-get install -y espeak-ng python3
set -euo pipefail

OUT=${1:-$(dirname "$0")/../assets/prompts}
VOICE=cmn
SPEED=190

declare -A PROMPTS=(
  [accept]='请通行'
  [refuse]='禁止通行'
  [emergency]='紧急疏散，请通行'
  [category-adult]='普通卡'
  [category-senior]='老年卡'
  [category-student]='学生卡'
  [category-child]='儿童卡'
  [category-disabled]='爱心卡'
  [category-staff]='员工卡'
)

command -v espeak-ng >/dev/null || { echo "make-prompts.sh: espeak-ng is not installed (apt-get install -y espeak-ng)" >&2; exit 1; }
mkdir -p "$OUT"
RAW=$(mktemp -d)
trap 'rm -rf "$RAW"' EXIT

for id in "${!PROMPTS[@]}"; do
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$RAW/$id.wav" "${PROMPTS[$id]}"
done

# espeak-ng writes 22050 Hz; resample to 16 kHz (3-tap smoothing, then linear
# interpolation) and trim the silence around the words, leaving 40 ms each side.
python3 - "$RAW" "$OUT" <<'PY'
import array, os, sys, wave

raw, out = sys.argv[1], sys.argv[2]
RATE, THRESHOLD, MARGIN = 16000, 300, 0.04
for name in sorted(os.listdir(raw)):
    with wave.open(os.path.join(raw, name)) as src:
        assert src.getnchannels() == 1 and src.getsampwidth() == 2, name
        rate = src.getframerate()
        samples = array.array('h', src.readframes(src.getnframes()))
    loud = [i for i, s in enumerate(samples) if abs(s) > THRESHOLD]
    margin = int(MARGIN * rate)
    samples = samples[max(0, loud[0] - margin):loud[-1] + margin]
    smooth = [(samples[max(i - 1, 0)] + 2 * samples[i] + samples[min(i + 1, len(samples) - 1)]) / 4 for i in range(len(samples))]
    count = int(len(smooth) * RATE / rate)
    resampled = array.array('h')
    for j in range(count):
        x = j * rate / RATE
        i = int(x)
        a, b = smooth[i], smooth[min(i + 1, len(smooth) - 1)]
        resampled.append(max(-32768, min(32767, round(a + (b - a) * (x - i)))))
    with wave.open(os.path.join(out, name), 'wb') as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(RATE)
        dst.writeframes(resampled.tobytes())
PY

du -cb "$OUT"/*.wav | tail -n1 | awk '{ printf "make-prompts.sh: %d prompts, %d bytes in total\n", '"${#PROMPTS[@]}"', $1 }'
