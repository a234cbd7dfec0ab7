package templates

import (
	"sync"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Templates is the registry of the business's templates.
type Templates interface {
	// Template returns a template by name and language.
	Template(name, language string) (model.TemplateInfo, bool)
}

// TemplateSet is an in-memory Templates.
type TemplateSet struct {
	mu sync.RWMutex
	m  map[string]model.TemplateInfo
}

// NewTemplateSet returns a registry holding ts.
func NewTemplateSet(ts ...model.TemplateInfo) *TemplateSet {
	s := &TemplateSet{m: map[string]model.TemplateInfo{}}
	for _, t := range ts {
		s.Put(t)
	}
	return s
}

// Put adds or replaces a template.
func (s *TemplateSet) Put(t model.TemplateInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[t.Name+"/"+t.Language] = t
}

// Template implements Templates.
func (s *TemplateSet) Template(name, language string) (model.TemplateInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.m[name+"/"+language]
	return t, ok
}

// ApproveFlowTemplates adds every template f names, approved, shaped as f
// fills it: what `parley simulate` assumes when no registry is given.
func (s *TemplateSet) ApproveFlowTemplates(f *flows.Flow) {
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
