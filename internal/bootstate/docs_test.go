package bootstate

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestStateFieldsDocumented: every member of the state file is in the
// field table of docs/boot.md's "Log and state": the table had lost the
// ones added since (keys, rescue, watchdog, clock, …), which host tools
// and operators read.
func TestStateFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/boot.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "\n## Log and state\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []string
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "| `") {
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "| "), " |")
			rows = append(rows, name)
		}
	}
	st := reflect.TypeFor[State]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		found := false
		for _, r := range rows {
			if strings.Contains(r, "`"+name+"`") || strings.Contains(r, "`"+name+"[]`") {
				found = true
			}
		}
		if !found {
			t.Errorf("the state file's %q is not in docs/boot.md's table", name)
		}
	}
}
