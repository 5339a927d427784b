package plot

import (
	"math"
	"strconv"
)

// tick is a value marked on an axis; an unlabelled tick is a minor one,
// drawn half as long.
type tick struct {
	value float64
	label string
}

// integerTicks labels whole numbers of attempts only: at most about five,
// at a step of 1, 2 or 5 times a power of ten.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []tick {
	step := 1.0
	for k := 0; hi/step > 5; k++ {
		step = [3]float64{2, 5, 10}[k%3] * math.Pow(10, float64(k/3))
	}
	var ticks []tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, tick{value: v, label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// maxSecondsLabels bounds the labels of the time axis: more do not read.
const maxSecondsLabels = 10

// secondsTicks marks the time axis [0, hi] (seconds, hi > 0) at the
// finest step of 1, 2 or 5 times a power of ten that gives at most
// maxSecondsLabels labels and whose labels fit (fits is asked with the
// labels of each candidate), with unlabelled ticks between the labelled
// ones.
func secondsTicks(hi float64, fits func(labels []string) bool) []tick {
	if !(hi > 0) || math.IsInf(hi, 0) {
		return nil
	}
	// Start at a step too fine for any axis: hi/1000 gives 1000 labels.
	exp := int(math.Floor(math.Log10(hi / 1000)))
	for k := 0; k < 30; k++ { // 30 steps span 10^10: far past one label
		mantissa := [3]float64{1, 2, 5}[k%3]
		step := mantissa * math.Pow10(exp+k/3)
		if labels := labelsAt(hi, step); labels != nil && fits(labels) {
			return withMinor(hi, step, mantissa, labels)
		}
	}
	return []tick{{value: 0, label: "0"}}
}

// labelsAt formats the multiples of step in [0, hi] with the decimals
// step needs; nil when they are more than maxSecondsLabels.
func labelsAt(hi, step float64) []string {
	n := math.Floor(hi/step+1e-9) + 1
	if n > maxSecondsLabels {
		return nil
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	labels := make([]string, int(n))
	for i := range labels {
		labels[i] = strconv.FormatFloat(float64(i)*step, 'f', decimals, 64)
	}
	return labels
}

// withMinor interleaves labels (at multiples of step) with minor ticks:
// fifths of a step of 1 or 5, halves of a step of 2.
func withMinor(hi, step, mantissa float64, labels []string) []tick {
	parts := 5
	if mantissa == 2 {
		parts = 2
	}
	minor := step / float64(parts)
	var ticks []tick
	for i := 0; ; i++ {
		v := float64(i) * minor
		if v > hi*(1+1e-9) {
			return ticks
		}
		t := tick{value: v}
		if i%parts == 0 && i/parts < len(labels) {
			t.label = labels[i/parts]
		}
		ticks = append(ticks, t)
	}
}
