package image

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// File is one regular file, directory or symlink to put in an image.
type File struct {
	Path   string // absolute path inside the image
	Data   []byte // contents; ignored for directories
	Mode   uint32 // permission bits; 0 means 0644 for files, 0755 for directories
	Dir    bool
	Target string // non-empty: a symlink to Target
}

// Spec says what goes into an image.
type Spec struct {
	Init         []byte   // the /init binary
	ModulesDir   string   // host path of a /lib/modules/<version> tree; "" for none
	Modules      []string // module names whose closure goes into the image
	Files        []File   // profiles, key files, anything else
	Compress     string   // "xz", "zstd" or "none"
	XZ           XZ       // with Compress "xz": filters for the target's code (XZFor); zero: LZMA2 alone
	KernelModVer string   // overrides the version directory name (default: base of ModulesDir)
}

// Build writes the image described by s to w. The output depends only on the
// spec: records are sorted, and times, owners and inode numbers are fixed.
func Build(s Spec, w io.Writer) error {
	files := []File{
		{Path: "/init", Data: s.Init, Mode: 0o755},
		{Path: "/bin/wgboot", Target: "../init"},
		{Path: "/dev", Dir: true},
		{Path: "/proc", Dir: true},
		{Path: "/sys", Dir: true},
		{Path: "/run", Dir: true},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/newroot", Dir: true},
	}
	if s.ModulesDir != "" && len(s.Modules) > 0 {
		mods, err := moduleFiles(s)
		if err != nil {
			return err
		}
		files = append(files, mods...)
	}
	files = append(files, s.Files...)

	recs, err := records(files)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	rw := cpio.Newc.Writer(&raw)
	if err := cpio.WriteRecords(rw, recs); err != nil {
		return err
	}
	if err := cpio.WriteTrailer(rw); err != nil {
		return err
	}
	return compress(s.Compress, s.XZ, raw.Bytes(), w)
}

func moduleFiles(s Spec) ([]File, error) {
	idx, err := IndexModules(s.ModulesDir)
	if err != nil {
		return nil, err
	}
	mods, err := Closure(idx, s.Modules)
	if err != nil {
		return nil, err
	}
	ver := s.KernelModVer
	if ver == "" {
		real, err := realBase(s.ModulesDir)
		if err != nil {
			return nil, err
		}
		ver = real
	}
	base := "/lib/modules/" + ver
	dep, err := ModulesDep(idx, mods)
	if err != nil {
		return nil, err
	}
	out := []File{{Path: base + "/modules.dep", Data: dep}}
	for _, m := range mods {
		src := path.Join(s.ModulesDir, m.Path)
		data, err := readModuleAny(src)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: base + "/" + m.Path, Data: data})
	}
	return out, nil
}

// realBase is the name of the directory dir resolves to: the kernel version.
func realBase(dir string) (string, error) {
	p, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	return path.Base(p), nil
}

// readModuleAny reads a module stored plain or compressed under the plain name.
func readModuleAny(plain string) ([]byte, error) {
	for _, suf := range []string{"", ".xz", ".zst", ".gz"} {
		if _, err := os.Stat(plain + suf); err == nil {
			return readModule(plain + suf)
		}
	}
	return nil, fmt.Errorf("module file %s not found", plain)
}

// records turns files into sorted cpio records, adding every parent
// directory, with reproducible metadata.
func records(files []File) ([]cpio.Record, error) {
	byPath := make(map[string]File)
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			return nil, fmt.Errorf("image: a file may not be the root directory")
		}
		if old, ok := byPath[p]; ok && !(old.Dir && f.Dir) {
			return nil, fmt.Errorf("image: %s added twice", p)
		}
		f.Path = p
		byPath[p] = f
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Dir: true}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	recs := []cpio.Record{dirRecord(".", 0o755)} // not pkg/cpio's 0777 root
	for _, p := range paths {
		f := byPath[p]
		name := strings.TrimPrefix(p, "/")
		var r cpio.Record
		switch {
		case f.Dir:
			r = dirRecord(name, orDefault(f.Mode, 0o755))
		case f.Target != "":
			r = cpio.Symlink(name, f.Target)
		default:
			r = cpio.StaticRecord(f.Data, cpio.Info{Name: name, Mode: cpio.S_IFREG | uint64(orDefault(f.Mode, 0o644))})
		}
		recs = append(recs, r)
	}
	recs = append(recs,
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.CharDev("dev/null", 0o666, 1, 3),
	)
	for i := range recs {
		recs[i] = cpio.MakeReproducible(recs[i])
		recs[i].Ino = uint64(i + 1)
		recs[i].NLink = 1
		if recs[i].Mode&cpio.S_IFMT == cpio.S_IFDIR {
			recs[i].NLink = 2
		}
	}
	return recs, nil
}

func dirRecord(name string, mode uint32) cpio.Record {
	return cpio.Directory(name, uint64(mode))
}

func orDefault(mode, def uint32) uint32 {
	if mode == 0 {
		return def
	}
	return mode
}

// compress writes raw to w compressed with the named method, using the
// host's xz or zstd. Both are deterministic single-threaded. xz uses CRC32
// because the kernel's decompressor does not do CRC64.
func compress(method string, x XZ, raw []byte, w io.Writer) error {
	var args []string
	switch method {
	case "", "none":
		_, err := w.Write(raw)
		return err
	case "xz":
		xa, err := x.args(len(raw))
		if err != nil {
			return err
		}
		args = append([]string{"xz", "--check=crc32", "-T1", "-c"}, xa...)
	case "zstd":
		args = []string{"zstd", "-19", "-T1", "-q", "-c"}
	default:
		return fmt.Errorf("image: unknown compression %q (want xz, zstd or none)", method)
	}
	var errb bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(raw), w, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("image: %s: %w: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return nil
}
