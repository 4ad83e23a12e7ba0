package module

// FindFile finds a controller-side file name in searchPaths as Ansible's _find_needle does:
// an absolute path as is, else in each search path's subdir, then in the path itself.
func FindFile(searchPaths []string, subdir, name string) (string, error) {
	return findFile(&Task{SearchPaths: searchPaths}, subdir, name)
}
