package main

import "github.com/tfopcap/tfopcap/internal/clidoc"

// completionShells are the shells `tfopcap completion` writes for.
var completionShells = []string{"bash", "zsh", "fish"}

const completionDescription = `Prints a completion script for the shell: commands, flags, the values
of --format and the like, interfaces for -i and files where files go.
Install it once:

  bash: tfopcap completion bash > /etc/bash_completion.d/tfopcap
        (or: source <(tfopcap completion bash) in ~/.bashrc)
  zsh:  tfopcap completion zsh > "${fpath[1]}/_tfopcap"
  fish: tfopcap completion fish > ~/.config/fish/completions/tfopcap.fish

The .deb installs all three.`

// runCompletion is `tfopcap completion SHELL`.
func runCompletion(args []string, st streams) error {
	if len(args) != 1 {
		return usagef("completion: want one shell: bash, zsh or fish")
	}
	p := program()
	switch args[0] {
	case "bash":
		return clidoc.WriteBash(st.stdout, p)
	case "zsh":
		return clidoc.WriteZsh(st.stdout, p)
	case "fish":
		return clidoc.WriteFish(st.stdout, p)
	}
	return usagef("completion: unknown shell %q (want bash, zsh or fish)", args[0])
}
