# scratch-tree.sh: sourced by pitfalls.sh and fuzz.sh. A scratch copy of the tree, .build-pitfalls/tree,
# in which a pitfall's patch is applied and built: never in your own files.
scratch=.build-pitfalls/tree

# A repository of its own, so that `git apply` there patches the scratch files; inside this repository's
# tree it would look for the patch's paths relative to this repository's root, and skip them.
init_scratch() {
    mkdir -p "$scratch"
    [[ -d $scratch/.git ]] || git init -q "$scratch"
}

# The scratch tree gets the working tree's files as they are now (committed or not). Only the files
# that differ are copied, with their modification times, so that the scratch tree's own .build stays
# incremental: a patch rebuilds the module it touches, and the next sync puts that file back.
sync_tree() {
    local file
    while IFS= read -r -d '' file; do
        [[ -f $file ]] || continue
        if ! cmp -s "$file" "$scratch/$file"; then
            mkdir -p "$scratch/$(dirname "$file")"
            cp -p "$file" "$scratch/$file"
        fi
    done < <(git ls-files -z --cached --others --exclude-standard)
    # A file deleted from the tree goes from the scratch copy too.
    comm -13 <(git ls-files --cached --others --exclude-standard | sort) \
             <(cd "$scratch" && find . -path ./.git -prune -o -path './.build*' -prune -o -type f -print | sed 's#^\./##' | sort) |
        while IFS= read -r file; do rm -f "$scratch/$file"; done
}

# Applies pitfalls/v0.N/NAME.patch (a path relative to the tree) to the scratch copy.
apply_to_scratch() {
    (cd "$scratch" && git apply "../../$1")
}
