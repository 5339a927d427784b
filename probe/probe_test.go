package probe

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestParseRounds(t *testing.T) {
	tests := []struct {
		in   string
		want []Round
		err  string
	}{
		{"request,data,mptcp", DefaultRounds(), ""},
		{"mptcp", []Round{RoundMPTCP}, ""},
		{" data , request ", []Round{RoundData, RoundRequest}, ""},
		{"request,request", []Round{RoundRequest}, ""},
		{"request,cookie", nil, `unknown round "cookie"`},
		{"", nil, `unknown round ""`},
	}
	for _, tt := range tests {
		got, err := ParseRounds(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestRunNoTargets(t *testing.T) {
	if _, err := Run(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "no target") {
		t.Errorf("no targets: %v", err)
	}
}
