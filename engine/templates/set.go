package templates

import (
	"sync"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Lookup finds the business's templates: a Registry, or a Set.
type Lookup interface {
	// Template returns a template by name and language.
	Template(name, language string) (model.TemplateInfo, bool)
}

// Set is an in-memory Lookup.
type Set struct {
	mu sync.RWMutex
	m  map[string]model.TemplateInfo
}

// NewSet returns a registry holding ts.
func NewSet(ts ...model.TemplateInfo) *Set {
	s := &Set{m: map[string]model.TemplateInfo{}}
	for _, t := range ts {
		s.Put(t)
	}
	return s
}

// Put adds or replaces a template.
func (s *Set) Put(t model.TemplateInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[t.Name+"/"+t.Language] = t
}

// Template implements Lookup.
func (s *Set) Template(name, language string) (model.TemplateInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m[name+"/"+language]
	return t, ok
}

// ApproveFlowTemplates adds every template f names, approved, shaped as f
// fills it: what `parley simulate` assumes when no registry is given.
func (s *Set) ApproveFlowTemplates(f *flows.Flow) {
	for _, n := range f.Nodes {
		if n.Template == nil {
			continue
		}
		if _, ok := s.Template(n.Template.Name, n.Template.Language); ok {
			continue
		}
		ts := flows.TemplateSend(*n.Template)
		s.Put(model.TemplateInfo{
			Name: n.Template.Name, Language: n.Template.Language, Status: model.TemplateApproved,
			HeaderParams: len(n.Template.Header), BodyParams: len(n.Template.Body),
			QuickReplies: len(n.Template.Buttons), Shape: ShapeOfSend(&ts),
		})
	}
}
