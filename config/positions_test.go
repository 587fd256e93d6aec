package config

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzPlaces holds that places finds exactly the places the decoder passes
// through: for every path the parsed tree spells (every key, known or not,
// and every index, through aliases), find, and places.get with its cache
// of the last list item, answer when and only when the decoder decoded a
// value there, and with the decoder's place.
func FuzzPlaces(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("registries:\n  - &a {name: x, tls: &t {ca: /c}}\n  - {name: y, tls: *t}\n  - *a\n"))
	f.Add([]byte("registries:\n  - name: a\n    name: b\n    bogus: 1\n    <<: {type: basic}\n    allow: [u, ~, [x]]\n  - ~\n  - 3\n"))
	f.Add([]byte("socket: {a: b}\ncontainerd: ~\nkubernetes: {namespaces: x}\nregistries: {name: a}\n"))
	f.Add([]byte(`{"registries":[{"name":"a","credentials":{"type":"secret","base":{"keyFile":"/k"}},"lifetime":"1h"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var root yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil || root.Kind == 0 {
			return
		}
		if checkExpansion(&root, 2000) != nil {
			return
		}
		decoded := map[string]pos{}
		d := &decoder{r: &reporter{file: "fuzz.yaml"}, record: func(path string, p pos) { decoded[path] = p }}
		d.decode(&root, "", reflect.ValueOf(&Config{}).Elem())
		budget := 5000
		cached := treePlaces(&root) // asked in file order, as validation asks
		spelled(&root, "", &budget, func(path string) {
			want, wantOK := decoded[path]
			got, ok := find(&root, path)
			if ok != wantOK || got != want {
				t.Fatalf("find(%q) = %v, %v; the decoder passed %v, %v", path, got, ok, want, wantOK)
			}
			if got, ok := cached.get(path); ok != wantOK || got != want {
				t.Fatalf("places.get(%q) = %v, %v; the decoder passed %v, %v", path, got, ok, want, wantOK)
			}
		})
		for path := range decoded {
			if _, ok := find(&root, path); !ok {
				t.Fatalf("find(%q) found nothing; the decoder passed there", path)
			}
		}
	})
}

// spelled calls fn with every path the tree spells from n, following
// aliases, until budget paths have been visited.
func spelled(n *yaml.Node, path string, budget *int, fn func(string)) {
	if *budget <= 0 {
		return
	}
	*budget--
	fn(path)
	n = follow(n)
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			spelled(c, path, budget, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			spelled(c, path+"["+strconv.Itoa(i)+"]", budget, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			spelled(n.Content[i+1], joinPath(path, n.Content[i].Value), budget, fn)
		}
	}
}

// BenchmarkParseLarge parses a file of 10,000 registries (9,000 Basic,
// 1,000 ECR), the size of test/bench's DefaultScale.
func BenchmarkParseLarge(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("registries:\n")
	for i := range 1000 {
		buf.WriteString("  - name: ecr-" + strconv.Itoa(i) + "\n    type: ecr\n    endpoint: " + strconv.Itoa(100000000000+i) +
			".dkr.ecr.us-east-1.amazonaws.com\n    credentials: {type: secret, accessKeyId: AKIAEXAMPLE0000" + strconv.Itoa(i%10) +
			", secretAccessKey: example}\n")
	}
	for i := range 9000 {
		buf.WriteString("  - name: basic-" + strconv.Itoa(i) + "\n    type: basic\n    endpoint: registry-" + strconv.Itoa(i) +
			".example.com\n    username: robot\n    password: pw-" + strconv.Itoa(i) + "\n")
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(buf.Bytes(), "large.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
