package image

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wgboot/wgboot/internal/krule"
)

// Module is one kernel module found in a modules tree.
type Module struct {
	Name    string   // canonical name: '-' folded to '_', no suffix
	Path    string   // path relative to the modules tree, e.g. kernel/net/foo.ko
	Depends []string // direct dependencies, canonical names, from .modinfo
}

// ModuleName folds a module file or module name into the kernel's canonical
// form: no directory, no .ko[.xz|.zst|.gz] suffix, and '-' written as '_'.
func ModuleName(s string) string {
	s = filepath.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 {
		s = s[:i]
	}
	return krule.FoldName(s)
}

// IndexModules walks a /lib/modules/<version> tree and reads each module's
// name and dependencies from its .modinfo section. Distribution packages ship
// no modules.dep, and depmod would have to run for the guest architecture, so
// the ELF section is the one source that works for any target.
func IndexModules(dir string) (map[string]Module, error) {
	idx := make(map[string]Module)
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = os.Stat(real); err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("modules directory %s is not a directory; want a kernel's lib/modules/<version> tree", dir)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("modules directory %s does not exist; want a kernel's lib/modules/<version> tree", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("modules directory %s: %w", dir, err)
	}
	dir = real
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.Contains(d.Name(), ".ko") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := readModule(path)
		if err != nil {
			return err
		}
		info, err := modinfo(data)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		m := Module{Name: ModuleName(d.Name()), Path: plainPath(rel)}
		if n := info["name"]; n != "" {
			m.Name = ModuleName(n)
		}
		for _, dep := range strings.Split(info["depends"], ",") {
			if dep != "" {
				m.Depends = append(m.Depends, ModuleName(dep))
			}
		}
		idx[m.Name] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index modules in %s: %w", dir, err)
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("modules directory %s holds no kernel modules (*.ko*); want a kernel's lib/modules/<version> tree", dir)
	}
	return idx, nil
}

// plainPath is where a module lands in the image: always uncompressed,
// because the kernel may lack in-kernel module decompression
// (finit_module with MODULE_INIT_COMPRESSED_FILE then fails with EOPNOTSUPP)
// and decompressing in the guest is slow; the whole cpio is compressed
// instead.
func plainPath(rel string) string {
	for _, suf := range []string{".xz", ".zst", ".gz"} {
		rel = strings.TrimSuffix(rel, suf)
	}
	return rel
}

// readModule returns a module's bytes, decompressed when it is stored as
// .ko.xz, .ko.zst or .ko.gz (using the host's xz, zstd or gzip).
func readModule(path string) ([]byte, error) {
	var tool string
	switch filepath.Ext(path) {
	case ".ko":
		return os.ReadFile(path)
	case ".xz":
		tool = "xz"
	case ".zst":
		tool = "zstd"
	case ".gz":
		tool = "gzip"
	default:
		return nil, fmt.Errorf("%s: unknown module suffix", path)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(tool, "-dc", path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("decompress %s with %s: %w: %s", path, tool, err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// modinfo returns the key=value strings of a module's .modinfo section.
func modinfo(data []byte) (map[string]string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an ELF module: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, errors.New("no .modinfo section")
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("read .modinfo: %w", err)
	}
	info := make(map[string]string)
	for _, kv := range bytes.Split(raw, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if ok {
			if _, dup := info[k]; !dup {
				info[k] = v
			}
		}
	}
	return info, nil
}

// Closure returns the named modules and everything they depend on, each
// after its dependencies, in a deterministic order.
func Closure(idx map[string]Module, names []string) ([]Module, error) {
	var (
		out   []Module
		state = make(map[string]int) // 1 visiting, 2 done
		visit func(name, from string) error
	)
	visit = func(name, from string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("module dependency cycle at %s", name)
		case 2:
			return nil
		}
		m, ok := idx[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("module %s (needed by %s) not found", name, from)
			}
			return fmt.Errorf("module %s not found", name)
		}
		state[name] = 1
		deps := append([]string(nil), m.Depends...)
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		if err := visit(ModuleName(n), ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ModulesDep renders a modules.dep for mods in depmod's format: each line is
// "path: dep dep ...", listing the module's whole dependency closure with
// the ones to load first last, as depmod does.
func ModulesDep(idx map[string]Module, mods []Module) ([]byte, error) {
	var b bytes.Buffer
	for _, m := range mods {
		closure, err := Closure(idx, []string{m.Name})
		if err != nil {
			return nil, err
		}
		b.WriteString(m.Path + ":")
		for i := len(closure) - 2; i >= 0; i-- { // the last one is m itself
			b.WriteString(" " + closure[i].Path)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}
